/**
 * The overlay the programs rely on, end to end through the CLI: the darknet sees an ISP's
 * infected subscribers scanning (Mirai's sequence number = target address), its infected-host
 * list becomes the C&C detector's bot list, and the detector finds the C&C servers those bots
 * talk to in the ISP's NetFlow.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { ipv4FromString, ipv4ToString } from '../core/index.ts';
import { buildTcpFrame, PcapWriter, TcpFlag } from '../packet/index.ts';
import { generateScenario, writeExportPcap } from '../scenario/index.ts';

const BIN = fileURLToPath(new URL('../../bin/tsunagi', import.meta.url));
const DARKNET = '203.0.113.0/24';

function run(args: string[]) {
  const result = spawnSync(BIN, args, { encoding: 'utf8', timeout: 120_000 });
  assert.equal(result.status, 0, `${args.join(' ')}: ${result.stderr}`);
  return result;
}

test('the darknet infected-host list drives C&C detection over the same ISP flows', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-overlay-'));
  const scenario = generateScenario({ seed: 3, hours: 4, subscribers: 400, startMs: Date.UTC(2025, 5, 1) });
  const flows = join(dir, 'flows.pcap');
  await writeExportPcap(scenario.batches(), flows, { format: 'ipfix' });
  const truth = scenario.truth;

  // Every infected household scans the darknet a little, as Mirai does: SYNs whose sequence
  // number is the target address. Uninfected households never appear there.
  const capture = new PcapWriter();
  const base = ipv4FromString(DARKNET.split('/')[0]!);
  let t = truth.startMs;
  let k = 0;
  for (const bot of [...truth.botList, ...truth.unknownBots]) {
    for (let i = 0; i < 12; i++) {
      const target = (base + ((k++ * 37) % 256)) >>> 0;
      capture.add(
        buildTcpFrame({
          srcIp: bot,
          dstIp: ipv4ToString(target),
          srcPort: 40000 + i,
          dstPort: i % 2 ? 23 : 2323,
          flags: TcpFlag.SYN,
          seq: target,
        }),
        (t += 250),
      );
    }
  }
  const darknetPcap = join(dir, 'darknet.pcap');
  await capture.writeFile(darknetPcap);

  const bots = join(dir, 'bots.csv');
  run(['darknet', 'analyze', darknetPcap, '--prefix', DARKNET, '--bots', bots]);
  const listed = readFileSync(bots, 'utf8').trim().split('\n').slice(1).sort();
  assert.deepEqual(listed, [...truth.botList, ...truth.unknownBots].sort());

  const c2 = join(dir, 'c2.csv');
  run([
    'detect',
    '--flows',
    flows,
    '--bots',
    bots,
    '--subscribers',
    ...truth.subscriberPrefixes,
    '--out',
    c2,
  ]);
  const rows = readFileSync(c2, 'utf8').trim().split('\n');
  assert.equal(rows[0], 'ip,port,proto,confidence,family');
  const found = new Set(rows.slice(1).map((row) => row.split(',').slice(0, 2).join(':')));
  const servers = truth.c2.map((c) => `${c.ip}:${c.port}`);
  const hits = servers.filter((s) => found.has(s));
  assert.ok(
    hits.length >= Math.ceil(servers.length / 2),
    `found ${hits.length} of ${servers.length}: ${rows.join(' | ')}`,
  );
  const traps = new Set(truth.traps.map((trap) => `${trap.ip}:${trap.port}`));
  assert.deepEqual(
    [...found].filter((f) => traps.has(f)),
    [],
    'no popular service, resolver or game server is listed',
  );
});
