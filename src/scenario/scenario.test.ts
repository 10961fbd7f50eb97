/** The scenario generator: deterministic, time-ordered, labelled, and emitted as real export packets. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createSocket } from 'node:dgram';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { type FlowBatch, FlowBatchWriter, ipv4ToString, PrefixSet } from '../core/index.ts';
import { DecoderConfig, createFlowDecoder, replayFiles } from '../flow/index.ts';
import { generateScenario, sendExportUdp, writeExportPcap } from './index.ts';

const SMALL = { seed: 3, subscribers: 120, hours: 1, botFraction: 0.1 } as const;

function digest(batches: Iterable<FlowBatch>): { hash: string; rows: number } {
  // Row by row, so that how rows are split into batches does not matter.
  const h = createHash('sha256');
  const row = new Float64Array(10);
  const bytes = new Uint8Array(row.buffer);
  let rows = 0;
  for (const b of batches) {
    rows += b.length;
    for (let i = 0; i < b.length; i++) {
      row.set([
        b.startMs[i]!,
        b.endMs[i]!,
        b.src4[i]!,
        b.dst4[i]!,
        b.srcPort[i]!,
        b.dstPort[i]!,
        b.proto[i]!,
        b.tcpFlags[i]!,
        b.packets[i]!,
        b.bytes[i]!,
      ]);
      h.update(bytes);
    }
  }
  return { hash: h.digest('hex'), rows };
}

describe('scenario generator', () => {
  test('the same seed gives the same day; another seed another', () => {
    const a = digest(generateScenario(SMALL).batches());
    const b = digest(generateScenario(SMALL).batches());
    const c = digest(generateScenario({ ...SMALL, seed: 4 }).batches());
    assert.ok(a.rows > 10_000, `rows ${a.rows}`);
    assert.deepEqual(a, b);
    assert.notEqual(a.hash, c.hash);
  });

  test('flows come out time-ordered and the truth matches the traffic', () => {
    // The truth's C&C list is complete after a full pass; the same seed gives the same day.
    const truthRun = generateScenario(SMALL);
    for (const _batch of truthRun.batches()) void _batch;
    const scenario = generateScenario(SMALL);
    const subscribers = new PrefixSet(scenario.truth.subscriberPrefixes);
    const bots = new Set([...scenario.truth.botList, ...scenario.truth.unknownBots]);
    const c2 = new Set(truthRun.truth.c2.map((c) => `${c.ip}|${c.port}`));
    let last = 0;
    let scans = 0;
    let c2Flows = 0;
    let c2FromNonBot = 0;
    for (const b of scenario.batches()) {
      for (let i = 0; i < b.length; i++) {
        assert.ok(b.startMs[i]! >= last, 'time-ordered');
        last = b.startMs[i]!;
        assert.ok(b.endMs[i]! >= b.startMs[i]!);
        if (b.tcpFlags[i] === 0x02) scans++;
        if (c2.has(`${ipv4ToString(b.dst4[i]!)}|${b.dstPort[i]}`)) {
          c2Flows++;
          if (!bots.has(ipv4ToString(b.src4[i]!))) c2FromNonBot++;
          assert.ok(subscribers.has4(b.src4[i]!));
        }
      }
    }
    assert.ok(scans > 500, `scans ${scans}`);
    assert.ok(c2Flows > 50, `C&C flows ${c2Flows}`);
    assert.equal(c2FromNonBot, 0, 'only infected households talk to C&C servers');
    assert.deepEqual(scenario.truth.c2, truthRun.truth.c2);
    assert.ok(
      scenario.truth.c2.length > 0 &&
        scenario.truth.c2.every((c) => c.firstContactMs >= c.fromMs && c.bots > 0),
    );
    assert.ok(
      scenario.truth.traps.some((t) => t.kind === 'ntp') &&
        scenario.truth.traps.some((t) => t.kind === 'p2p-peer'),
    );
    assert.ok(scenario.truth.flows > 10_000);
  });

  for (const format of ['v9', 'ipfix'] as const) {
    test(`${format} pcap decodes back to the same flows`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'scenario-pcap-'));
      const path = join(dir, 'flows.pcap');
      const options = { ...SMALL, hours: 0.25 };
      const expected = digest(generateScenario(options).batches());
      const written = await writeExportPcap(generateScenario(options).batches(), path, { format });
      assert.equal(written.flows, expected.rows);
      const decoded: FlowBatch[] = [];
      const summary = await replayFiles([path], createFlowDecoder(DecoderConfig.parse({})), (b) =>
        decoded.push(b),
      );
      assert.deepEqual(summary.errors, {});
      assert.equal(summary.records, expected.rows);
      // Same records in the same order (v9 carries ms uptime offsets, IPFIX absolute ms).
      assert.equal(digest(decoded).hash, expected.hash);
    });
  }

  test('send refuses non-loopback targets and delivers to a loopback collector', async () => {
    await assert.rejects(
      sendExportUdp(generateScenario(SMALL).batches(), { host: '192.0.2.9', port: 2055, format: 'v9' }),
      /loopback/,
    );
    const socket = createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', () => resolve()));
    const port = socket.address().port;
    const decoder = createFlowDecoder(DecoderConfig.parse({}));
    let records = 0;
    const writer = new FlowBatchWriter((b) => (records += b.length));
    socket.on('message', (msg, rinfo) =>
      decoder.decode(
        msg,
        { exporter: rinfo.address, exporterPort: rinfo.port, receivedMs: Date.now() },
        writer,
      ),
    );
    const sent = await sendExportUdp(generateScenario({ ...SMALL, hours: 0.1 }).batches(), {
      host: '127.0.0.1',
      port,
      format: 'ipfix',
      rate: 0,
    });
    await new Promise((resolve) => setTimeout(resolve, 200));
    writer.flush();
    socket.close();
    assert.ok(sent.flows > 1000);
    // Loopback UDP can drop under load; nearly all must arrive and decode.
    assert.ok(records >= sent.flows * 0.95, `decoded ${records} of ${sent.flows}`);
  });
});
