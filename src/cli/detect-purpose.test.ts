/**
 * Purpose limitation, proven by scanning everything a run writes: the shareable list, the
 * --explain output, and the persisted state hold no subscriber address and no flow time, and no
 * raw flow record is written anywhere. Also: persisted state restores with its expiry honoured.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { Command } from 'commander';
import { register } from './commands/detect.ts';
import { PrefixSet, ipv4FromString } from '../core/index.ts';
import { generateScenario, writeExportPcap } from '../scenario/index.ts';
import { PEER_HEADER, SHARE_HEADER, STATE_FILE, createDetector, type Candidate } from '../detect/index.ts';
import { T0, UDP, batchOf, browsing, homes, seeded, type Row } from '../detect/testing.ts';
import { captureCli } from './test-cli.ts';

const OPTIONS = { seed: 11, subscribers: 250, hours: 3, botFraction: 0.1 } as const;

/** Every flow time of the scenario, as ms and as whole seconds. */
function flowTimes(): {
  ms: Set<number>;
  seconds: Set<number>;
  subscribers: PrefixSet;
  startMs: number;
  endMs: number;
} {
  const scenario = generateScenario(OPTIONS);
  const ms = new Set<number>();
  const seconds = new Set<number>();
  for (const batch of scenario.batches()) {
    for (let i = 0; i < batch.length; i++) {
      for (const t of [batch.startMs[i]!, batch.endMs[i]!]) {
        ms.add(t);
        seconds.add(Math.floor(t / 1000));
      }
    }
  }
  return {
    ms,
    seconds,
    subscribers: new PrefixSet(scenario.truth.subscriberPrefixes),
    startMs: scenario.truth.startMs,
    endMs: scenario.truth.endMs,
  };
}

/** Fails when `text` holds a subscriber address, a flow time (ms or s) or any ISO date. */
function assertClean(text: string, where: string, times: ReturnType<typeof flowTimes>): void {
  for (const match of text.matchAll(/\b\d{1,3}\.\d{1,3}\.\d{1,3}\.\d{1,3}\b/g)) {
    assert.ok(
      !times.subscribers.has4(ipv4FromString(match[0])),
      `${where} holds subscriber address ${match[0]}`,
    );
  }
  for (const match of text.matchAll(/\d{9,}/g)) {
    const n = Number(match[0]);
    assert.ok(!times.ms.has(n) && !times.seconds.has(n), `${where} holds flow time ${match[0]}`);
  }
  assert.doesNotMatch(text, /\d{4}-\d\d-\d\dT\d\d:\d\d/, `${where} holds a date`);
}

const times = flowTimes();

describe('purpose limitation', () => {
  test('tsunagi detect over a NetFlow/IPFIX capture writes only ip,port,proto,confidence,family', async () => {
    const input = mkdtempSync(join(tmpdir(), 'detect-in-'));
    const output = mkdtempSync(join(tmpdir(), 'detect-out-'));
    const scenario = generateScenario(OPTIONS);
    await writeExportPcap(scenario.batches(), join(input, 'flows.pcap'), { format: 'ipfix' });
    writeFileSync(join(input, 'bots.txt'), scenario.truth.botList.join('\n'));

    const run = async (args: string[]) => {
      const capture = captureCli();
      const program = new Command('tsunagi').exitOverride();
      register(program, capture.ctx);
      await program.parseAsync(args, { from: 'user' });
      return capture;
    };
    const plain = await run([
      'detect',
      '--flows',
      join(input, 'flows.pcap'),
      '--bots',
      join(input, 'bots.txt'),
      '--subscribers',
      '198.18.0.0/15',
      '--out',
      join(output, 'c2.csv'),
    ]);
    const explained = await run([
      'detect',
      '--flows',
      join(input, 'flows.pcap'),
      '--bots',
      join(input, 'bots.txt'),
      '--subscribers',
      '198.18.0.0/15',
      '--explain',
    ]);

    const csv = readFileSync(join(output, 'c2.csv'), 'utf8');
    const lines = csv.trim().split('\n');
    assert.equal(lines[0], SHARE_HEADER);
    assert.ok(lines.length >= 3, `the run found C&C servers:\n${csv}`);
    for (const line of lines.slice(1)) assert.match(line, /^[\d.:a-f]+,\d+,(tcp|udp|\d+),\d+,[\w.-]*$/);
    const confidences = lines.slice(1).map((l) => Number(l.split(',')[3]));
    assert.deepEqual(
      confidences,
      [...confidences].sort((a, b) => b - a),
      'highest confidence first',
    );
    const truthKeys = new Set(scenario.truth.c2.map((c) => `${c.ip},${c.port},${c.proto}`));
    for (const line of lines.slice(1))
      assert.ok(truthKeys.has(line.split(',').slice(0, 3).join(',')), `not a C&C server: ${line}`);

    assert.deepEqual(readdirSync(output), ['c2.csv'], 'nothing else is written');
    for (const [where, text] of [
      ['c2.csv', csv],
      ['stdout', plain.stdout()],
      ['stderr', plain.stderr()],
      ['--explain stdout', explained.stdout()],
      ['--explain stderr', explained.stderr()],
    ] as const) {
      assertClean(text, where, times);
    }
    assert.match(explained.stdout(), /^kind,ip,port,proto,confidence,family,family_share,bots,returning/);
  });

  test('persisted state holds aggregates only, and restores with its expiry honoured', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'detect-data-'));
    const scenario = generateScenario(OPTIONS);
    const config = { subscriberPrefixes: scenario.truth.subscriberPrefixes, dataDir, expiryMs: 3_600_000 };
    const first = createDetector(config, { now: () => scenario.truth.startMs });
    await first.start();
    first.setBots(scenario.truth.botList);
    for (const batch of scenario.batches()) first.ingest(batch);
    const published = first.candidates().map((c) => c.key);
    assert.ok(published.length >= 3);
    await first.stop();

    assert.deepEqual(readdirSync(dataDir), [STATE_FILE], 'the data dir holds the aggregate state only');
    const text = readFileSync(join(dataDir, STATE_FILE), 'utf8');
    const state = JSON.parse(text) as { aggregates: Record<string, unknown>[] };
    assert.ok(state.aggregates.length > 0);
    for (const row of state.aggregates) {
      assert.deepEqual(Object.keys(row).sort(), [
        'botFlows',
        'bots',
        'bytes',
        'clients',
        'expiresAtMs',
        'flows',
        'ip',
        'periodicity',
        'port',
        'proto',
        'returningBots',
        'windowsSeen',
      ]);
      assert.equal((row.expiresAtMs as number) % 60_000, 0, 'expiry is coarse (whole minutes)');
      assert.ok(!times.subscribers.has4(ipv4FromString(row.ip as string)), 'keys are external destinations');
    }
    // Apart from the coarse expiry, nothing in the file may be a subscriber address or a flow time.
    const withoutExpiry = JSON.stringify(state.aggregates.map(({ expiresAtMs: _expiry, ...rest }) => rest));
    assertClean(withoutExpiry, STATE_FILE, times);

    const republished: Candidate[] = [];
    const second = createDetector(config, {
      now: () => scenario.truth.endMs,
      onPublish: (c) => republished.push(c),
    });
    await second.start();
    assert.equal(
      second.stats.restored,
      state.aggregates.filter((r) => (r.expiresAtMs as number) > scenario.truth.endMs).length,
    );
    assert.ok(second.stats.restored > 0);
    for (const key of published) {
      assert.ok(
        republished.some((c) => c.key === key),
        `restored state republishes ${key}`,
      );
    }
    await second.stop();

    const late = createDetector(config, { now: () => scenario.truth.endMs + 2 * 3_600_000 });
    await late.start();
    assert.equal(late.stats.restored, 0, 'expired aggregates are not restored');
    assert.deepEqual(late.candidates(), []);
  });
});

describe('purpose limitation', () => {
  test('P2P peers: external ones only in --peers-out, subscriber homes only in --internal-peers-out, none on the C&C list', async () => {
    const input = mkdtempSync(join(tmpdir(), 'detect-p2p-in-'));
    const output = mkdtempSync(join(tmpdir(), 'detect-p2p-out-'));
    const bots = homes(20);
    const insidePeers = homes(15, 500); // unlisted subscriber homes the bots reach: infected too
    const random = seeded(21);
    const outsidePeers = Array.from({ length: 40 }, (_, k) => `100.${64 + k}.${k + 1}.9`);
    const rows: Row[] = browsing(homes(200, 1000), ['192.0.2.10', '192.0.2.11', '192.0.2.12'], 2);
    const seenTimes = new Set<number>();
    for (const bot of bots) {
      for (let k = 0; k < 24; k++) {
        const inside = k % 4 === 0;
        const peer = inside
          ? insidePeers[Math.floor(random() * insidePeers.length)]!
          : outsidePeers[Math.floor(random() * outsidePeers.length)]!;
        const port = 20000 + ((peer.length * 977 + k) % 30000);
        const t = Math.round(T0 + random() * 2 * 3_600_000);
        // The peer answers: an exchange, not a stale address the bot still tries.
        rows.push({ t, src: bot, dst: peer, sport: 6881, dport: port, proto: UDP, packets: 1, bytes: 200 });
        rows.push({
          t: t + 40,
          src: peer,
          dst: bot,
          sport: port,
          dport: 6881,
          proto: UDP,
          packets: 1,
          bytes: 240,
        });
      }
    }
    for (const r of rows) {
      seenTimes.add(Math.round(r.t));
      seenTimes.add(Math.round(r.t) + 500);
    }
    const flows = join(input, 'p2p.pcap');
    await writeExportPcap([batchOf(rows)], flows, { format: 'ipfix' });
    writeFileSync(join(input, 'bots.csv'), `bot,family\n${bots.map((b) => `${b},mozi`).join('\n')}\n`);
    const capture = captureCli();
    const program = new Command('tsunagi').exitOverride();
    register(program, capture.ctx);
    await program.parseAsync(
      [
        'detect',
        '--flows',
        flows,
        '--bots',
        join(input, 'bots.csv'),
        '--subscribers',
        '198.18.0.0/15',
        '--out',
        join(output, 'c2.csv'),
        '--peers-out',
        join(output, 'peers.csv'),
        '--internal-peers-out',
        join(output, 'internal-peers.csv'),
        '--explain',
      ],
      { from: 'user' },
    );
    const subscribers = new PrefixSet(['198.18.0.0/15']);
    const c2 = readFileSync(join(output, 'c2.csv'), 'utf8');
    assert.equal(c2, `${SHARE_HEADER}\n`, 'no peer is on the C&C list');
    const peers = readFileSync(join(output, 'peers.csv'), 'utf8').trim().split('\n');
    assert.equal(peers[0], PEER_HEADER);
    assert.ok(peers.length > 10, `external peers: ${peers.length - 1}`);
    for (const line of peers.slice(1)) {
      const ip = line.split(',')[0]!;
      assert.ok(outsidePeers.includes(ip), `${ip} is an external peer`);
      assert.match(line, /,mozi,\d+$/);
    }
    const internal = readFileSync(join(output, 'internal-peers.csv'), 'utf8').trim().split('\n');
    assert.ok(internal.length > 5, `internal peers: ${internal.length - 1}`);
    for (const line of internal.slice(1)) {
      const ip = line.split(',')[0]!;
      assert.ok(insidePeers.includes(ip), `${ip} is a subscriber home reached as a peer`);
    }
    const clean = {
      ms: seenTimes,
      seconds: new Set([...seenTimes].map((t) => Math.floor(t / 1000))),
      subscribers,
    };
    for (const [where, text] of [
      ['c2.csv', c2],
      ['peers.csv', peers.join('\n')],
      ['--explain stdout', capture.stdout()],
      ['stderr', capture.stderr()],
    ] as const)
      assertClean(text, where, clean as ReturnType<typeof flowTimes>);
  });
});
