/**
 * Two ISPs and an analysis centre, each on its own network (issue #23). ISP A and ISP B each live
 * in a network namespace of their own with their own NATS JetStream server, `collect --nats`,
 * `detect --nats` workers (two at A, one at B), a `serve --nats` hub on its own data directory,
 * and the scenario exporter sending IPFIX into the collector. Each ISP's hub passes its workers'
 * candidates on over TAXII (`--share-to`) across a veth pair and a bridge to the centre's hub,
 * which keeps its store in PostgreSQL. At the end `export c2` at the centre lists each C&C server
 * once; in the centre's store each carries one sighting per ISP; the council tier holds the
 * council copy and public notice nothing (AMBER+STRICT submissions, no centre decision).
 *
 * Needs root (ip netns), the nats-server binary, and TSUNAGI_TEST_DATABASE_URL; the namespaces,
 * bridge and processes are removed at the end, whatever happened.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { createIntel, IntelConfig } from '../intel/index.ts';
import { COLLECTION_IDS } from '../share/index.ts';
import { openStore } from '../store/index.ts';
import { ROOM_MIGRATIONS } from './store-migrations.ts';
import { runServe } from './commands/serve.ts';
import { ServeConfig } from './hub-stack.ts';
import { main } from './main.ts';
import { scratchDatabase } from './scratch-database.ts';
import { captureCli } from './test-cli.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const databaseUrl = process.env.TSUNAGI_TEST_DATABASE_URL;
const SCENARIO = ['--seed', '12', '--hours', '1', '--subscribers', '300'];

function whyNot(): string | false {
  if (!databaseUrl) return 'TSUNAGI_TEST_DATABASE_URL unset: two-ISP namespace test skipped';
  if (process.getuid?.() !== 0) return 'not root: ip netns needs it; two-ISP namespace test skipped';
  for (const tool of ['ip', 'nats-server'])
    try {
      execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' });
    } catch {
      return `${tool} not installed: two-ISP namespace test skipped`;
    }
  return false;
}

async function cli(args: string[], env: NodeJS.ProcessEnv = {}): Promise<string> {
  const c = captureCli(env);
  const code = await main(args, c.ctx);
  assert.equal(code, 0, `tsunagi ${args.join(' ')}: ${c.stderr()}`);
  return c.stdout() + c.stderr();
}

/** `export c2` rows as ip,port,proto. */
async function exportC2(data: string, tier: string, env: NodeJS.ProcessEnv = {}): Promise<Set<string>> {
  const c = captureCli(env);
  assert.equal(await main(['export', 'c2', '--tier', tier, '--data', data], c.ctx), 0, c.stderr());
  const rows = c
    .stdout()
    .trim()
    .split('\n')
    .filter((line) => line && !line.startsWith('ip,') && !line.startsWith('#'))
    .map((line) => line.split(',').slice(0, 3).join(','));
  return new Set(rows);
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

async function freePort(host: string): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, host, resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

interface Proc {
  name: string;
  child: ChildProcess;
  log: () => string;
}

type Isp = { name: string; ns: string; address: string; workers: string[] };

/** A tsunagi (or other) process inside an ISP's namespace, resolved once `ready` shows in its output. */
async function runIn(
  procs: Proc[],
  ns: string,
  name: string,
  command: string[],
  ready: RegExp,
  env: NodeJS.ProcessEnv = {},
): Promise<Proc> {
  const childEnv: NodeJS.ProcessEnv = { ...process.env, ...env };
  delete childEnv.TSUNAGI_DATABASE_URL; // an ISP's hub keeps its own store in its data directory
  const child = spawn('ip', ['netns', 'exec', ns, ...command], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: childEnv,
  });
  let text = '';
  child.stdout!.on('data', (d) => (text += d));
  child.stderr!.on('data', (d) => (text += d));
  const proc = { name, child, log: () => text };
  procs.push(proc);
  const end = Date.now() + 180_000;
  while (!ready.test(text)) {
    assert.ok(child.exitCode === null, `${name} exited ${child.exitCode}: ${text}`);
    assert.ok(Date.now() < end, `${name} not ready: ${text}`);
    await sleep(100);
  }
  return proc;
}

/** A bridge on this host (the centre's side), each ISP's namespace on a veth pair. */
function buildNetwork(bridge: string, subnet: string, isps: Isp[]): void {
  ip('link', 'add', bridge, 'type', 'bridge');
  ip('addr', 'add', `${subnet}.1/24`, 'dev', bridge);
  ip('link', 'set', bridge, 'up');
  for (const isp of isps) {
    ip('netns', 'add', isp.ns);
    ip('link', 'add', `${isp.ns}h`, 'type', 'veth', 'peer', 'name', `${isp.ns}n`);
    ip('link', 'set', `${isp.ns}n`, 'netns', isp.ns);
    ip('link', 'set', `${isp.ns}h`, 'master', bridge);
    ip('link', 'set', `${isp.ns}h`, 'up');
    ip('netns', 'exec', isp.ns, 'ip', 'link', 'set', 'lo', 'up');
    ip('netns', 'exec', isp.ns, 'ip', 'addr', 'add', `${isp.address}/24`, 'dev', `${isp.ns}n`);
    ip('netns', 'exec', isp.ns, 'ip', 'link', 'set', `${isp.ns}n`, 'up');
  }
}

/** The scenario's bot list, the detector's address plan as printed, and its truth. */
async function generateScenario(dir: string) {
  const bots = join(dir, 'bots.csv');
  const truthFile = join(dir, 'truth.json');
  const generated = await cli([
    'scenario',
    'generate',
    '--out',
    join(dir, 'day.pcap'),
    '--bots',
    bots,
    '--truth',
    truthFile,
    ...SCENARIO,
  ]);
  // The address plan the detector needs (DS-Lite shared addresses, the IPv6 home prefix), as printed.
  const plan = /detect with (.+)/
    .exec(generated)![1]!
    .trim()
    .split(/\s+/)
    .flatMap((arg, i, all) => (all[i - 1] === '--subscribers' ? arg.split(',') : [arg]));
  const truth = JSON.parse(readFileSync(truthFile, 'utf8')) as {
    c2: { ip: string; port: number }[];
    subscriberPrefixes: string[];
  };
  return { bots, plan, truth };
}

/** An ISP's NATS, its hub (uplinking to the centre), its workers, its collector, then the flows. */
async function startIsp(
  isp: Isp,
  {
    dir,
    subnet,
    centrePort,
    token,
    bots,
    plan,
    truth,
    procs,
  }: {
    dir: string;
    subnet: string;
    centrePort: number;
    token: string;
    bots: string;
    plan: string[];
    truth: { subscriberPrefixes: string[] };
    procs: Proc[];
  },
): Promise<void> {
  const home = join(dir, isp.ns);
  mkdirSync(join(home, 'nats'), { recursive: true });
  await runIn(
    procs,
    isp.ns,
    `${isp.name} nats`,
    ['nats-server', '-a', '127.0.0.1', '-p', '4222', '-js', '-sd', join(home, 'nats')],
    /Server is ready/,
  );
  const data = join(home, 'hub');
  await cli(['org', 'add', isp.name, '--role', 'isp', '--data', data]);
  const nats = 'nats://127.0.0.1:4222';
  await runIn(
    procs,
    isp.ns,
    `${isp.name} hub`,
    [
      BIN,
      'serve',
      '--data',
      data,
      '--listen',
      '127.0.0.1:8470',
      '--nats',
      nats,
      '--share-to',
      `http://${subnet}.1:${centrePort}`,
      '--share-collection',
      COLLECTION_IDS.submissions,
    ],
    /tsunagi hub on/,
    { TSUNAGI_SHARE_TO__TOKEN: token, TSUNAGI_SHARE_TO__BATCH_MS: '200' },
  );
  await Promise.all(
    isp.workers.map((partitions) =>
      runIn(
        procs,
        isp.ns,
        `${isp.name} worker ${partitions}`,
        [
          BIN,
          'detect',
          '--nats',
          nats,
          '--partitions',
          partitions,
          '--durable',
          'detect',
          '--state',
          join(home, `worker-${partitions}`),
          '--bots',
          bots,
          ...plan,
        ],
        /consuming partitions/,
      ),
    ),
  );
  await runIn(
    procs,
    isp.ns,
    `${isp.name} collector`,
    [BIN, 'collect', '--nats', nats, '-l', '127.0.0.1:2055', '--subscribers', ...truth.subscriberPrefixes],
    /listening on/,
  );
  await runIn(
    procs,
    isp.ns,
    `${isp.name} exporter`,
    [BIN, 'scenario', 'send', '--to', '127.0.0.1:2055', '--start', 'now', '--rate', '20000', ...SCENARIO],
    /sent \d+ flows/,
  );
}

/** Polls both ISPs' lists and the centre's sightings until complete and unchanged for 5 s (or 2 min). */
async function untilStable(dir: string, isps: Isp[], intel: ReturnType<typeof createIntel>) {
  let last = '';
  let stableSince = Date.now();
  const end = Date.now() + 120_000;
  let lists: Set<string>[] = [];
  let sightings = new Map<string, string[]>();
  for (;;) {
    lists = await Promise.all(isps.map((isp) => exportC2(join(dir, isp.ns, 'hub'), 'full')));
    const page = await intel.list({ kinds: ['c2'], limit: 1000 });
    sightings = new Map();
    for (const indicator of page.items)
      sightings.set(
        `${indicator.value},${indicator.port},${indicator.proto}`,
        (await intel.sightings(indicator.id)).map((s) => s.source).sort(),
      );
    const now = JSON.stringify([lists.map((l) => [...l].sort()), [...sightings].sort()]);
    if (now !== last) [last, stableSince] = [now, Date.now()];
    const complete =
      lists[0]!.size > 0 &&
      sightings.size === lists[0]!.size &&
      [...sightings.values()].every((sources) => sources.length === isps.length);
    if (complete && Date.now() - stableSince > 5000) break;
    if (Date.now() > end) break;
    await sleep(1000);
  }
  return { lists, sightings };
}

test(
  'two ISPs in network namespaces share into an analysis centre: one indicator per C&C server, one sighting per ISP',
  { skip: whyNot(), timeout: 420_000 },
  async () => {
    const tag = randomBytes(3).toString('hex');
    const subnet = `10.231.${16 + (parseInt(tag, 16) % 200)}`;
    const bridge = `tsg${tag}br`;
    const dir = mkdtempSync(join(tmpdir(), 'tsunagi-multi-isp-'));
    const database = await scratchDatabase(databaseUrl!, `tsunagi_test_multi_isp_${tag}`);
    const centreEnv = { TSUNAGI_DATABASE_URL: database.url };
    const isps = [
      { name: 'ISP A', ns: `tsg${tag}a`, address: `${subnet}.2`, workers: ['0-7', '8-15'] },
      { name: 'ISP B', ns: `tsg${tag}b`, address: `${subnet}.3`, workers: ['0-15'] },
    ];
    const procs: Proc[] = [];
    let stopCentre!: () => void;
    const centreStopped = new Promise<void>((resolve) => (stopCentre = resolve));
    let centre: Promise<void> | undefined;

    try {
      // The network: a bridge on this host (the centre's side), each ISP's namespace on a veth pair.
      buildNetwork(bridge, subnet, isps);

      // The centre: PostgreSQL store, an organisation and a submission token per ISP.
      const centreData = join(dir, 'centre');
      await cli(['org', 'add', 'Analysis Centre', '--role', 'analysis', '--data', centreData], centreEnv);
      const tokens = new Map<string, string>();
      for (const isp of isps) {
        await cli(['org', 'add', isp.name, '--role', 'isp', '--consent', '--data', centreData], centreEnv);
        const printed = await cli(
          ['token', 'create', '--org', isp.name, '--scope', 'read,write', '--data', centreData],
          centreEnv,
        );
        tokens.set(isp.name, /tsg_[A-Za-z0-9_-]+/.exec(printed)![0]);
      }
      const centrePort = await freePort(`${subnet}.1`);
      const centreOut = captureCli(centreEnv);
      let centreUp!: () => void;
      const centreReady = new Promise<void>((resolve) => (centreUp = resolve));
      centre = runServe(
        ServeConfig.parse({ data: centreData, hub: { listen: `${subnet}.1:${centrePort}` } }),
        centreOut.ctx,
        async () => {
          centreUp();
          await centreStopped;
        },
      );
      await Promise.race([centreReady, centre]);

      // The scenario's bot list and truth (the exporter below sends the same day, ending now).
      const { bots, plan, truth } = await generateScenario(dir);

      // Each ISP: NATS, its hub (uplinking to the centre), its workers, its collector, then the flows.
      await Promise.all(
        isps.map((isp) =>
          startIsp(isp, { dir, subnet, centrePort, token: tokens.get(isp.name)!, bots, plan, truth, procs }),
        ),
      );

      // Until both ISPs' lists and the centre's store stop changing, with every server in place.
      const store = await openStore({ databaseUrl: database.url }, { migrations: ROOM_MIGRATIONS });
      const intel = createIntel(IntelConfig.parse({}), {
        store,
        logger: silentLogger(),
        registry: new Registry(),
      });
      const servers = new Set(truth.c2.map((c) => `${c.ip},${c.port},tcp`));
      try {
        const { lists, sightings } = await untilStable(dir, isps, intel);
        const [a, b] = lists;
        assert.ok(
          a!.size > 0,
          `ISP A's hub holds its workers' C&C servers\n${procs.map((p) => `${p.name}: ${p.log().slice(-600)}`).join('\n')}`,
        );
        assert.deepEqual([...a!].sort(), [...b!].sort(), 'the same traffic gave both ISPs the same list');
        for (const server of a!) assert.ok(servers.has(server), `${server} is a C&C server of the scenario`);

        // The centre: one indicator per server, one sighting by each ISP.
        assert.deepEqual([...sightings.keys()].sort(), [...a!].sort(), 'one indicator per C&C server');
        for (const [server, sources] of sightings)
          assert.equal(new Set(sources).size, 2, `${server}: one sighting per ISP (${sources.join(', ')})`);
        const full = await exportC2(centreData, 'full', centreEnv);
        assert.deepEqual([...full].sort(), [...a!].sort(), 'export c2 at the centre: every server once');
        // Submitted at council tier, AMBER+STRICT: the council copy reaches council members; public
        // notice gets nothing without the centre's decision.
        assert.deepEqual([...(await exportC2(centreData, 'council', centreEnv))].sort(), [...a!].sort());
        assert.equal((await exportC2(centreData, 'public', centreEnv)).size, 0, 'nothing in public notice');
      } finally {
        await store.close();
      }
    } finally {
      for (const p of procs.reverse()) {
        p.child.kill('SIGTERM');
        if (p.child.exitCode === null)
          await Promise.race([new Promise((r) => p.child.once('exit', r)), sleep(8000)]);
        p.child.kill('SIGKILL');
      }
      stopCentre();
      await centre?.catch(() => undefined);
      for (const isp of isps) {
        if (existsSync(`/run/netns/${isp.ns}`)) ip('netns', 'del', isp.ns);
      }
      try {
        ip('link', 'del', bridge);
      } catch {
        // never created
      }
      await database.drop();
      rmSync(dir, { recursive: true, force: true });
    }
  },
);
