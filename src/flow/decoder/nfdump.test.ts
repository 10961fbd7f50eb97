/**
 * A second independent decoder for the corpus: every Logstash vendor and Telegraf case is sent
 * over loopback to nfdump's nfcapd (one exporter address each, templates first), and the records
 * nfdump reads back must be the records tsunagi decodes from the same payloads, field by field
 * on (5-tuple, packets, bytes). This covers the vendors Wireshark's dissector fails on
 * (tshark.test.ts), so every vendor is checked against at least one decoder that is not ours.
 */
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { freeUdpPort, readUdpSocket, sleep, startChild, waitExit, waitFor } from '../testdata/proc.ts';
import { DecoderConfig } from '../config.ts';
import { createFlowDecoder } from './decoder.ts';
import { LOGSTASH, vendorGroups } from '../testdata/corpus.ts';
import { decodeAll } from '../testdata/rows.ts';

const missingTool = ['nfcapd', 'nfdump'].find(
  (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
);
const skip = missingTool
  ? `${missingTool} not on PATH (Debian package nfdump)`
  : !existsSync(LOGSTASH)
    ? `corpus not found at ${LOGSTASH}`
    : false;

/**
 * Where nfdump 1.7.1 and tsunagi differ on purpose, with the exact record counts each must give.
 * Each of these vendors is still checked field by field against tshark (tshark.test.ts) or by
 * corpus.test.ts's exact expectations.
 */
const KNOWN_DIFFERENCES: Record<string, { tsunagi: number; nfdump: number; why: string }> = {
  netflow5: { tsunagi: 2, nfdump: 30, why: 'the header counts 2 records; nfdump reads all 30 that follow' },
  netflow5_test_invalid01: { tsunagi: 30, nfdump: 0, why: 'nfdump drops the broken datagram whole' },
  netflow5_test_invalid02: { tsunagi: 30, nfdump: 0, why: 'nfdump drops the broken datagram whole' },
  netflow9_test_cisco_wlc: { tsunagi: 0, nfdump: 19, why: 'records without addresses: tsunagi keeps none' },
  ipfix_test_procera: {
    tsunagi: 8,
    nfdump: 8,
    why: 'nfdump shows the IPv4 records as :: (IPv6 fields of the template)',
  },
};

const PROTOCOLS: Record<string, number> = { ICMP: 1, IGMP: 2, TCP: 6, UDP: 17, GRE: 47, ESP: 50, ICMP6: 58 };

/**
 * The compared unit. ICMP type and code travel in different fields per exporter and the two
 * decoders map them differently, so ICMP records are compared without ports (tshark.test.ts
 * compares them with).
 */
function recordKey(
  src: string,
  dst: string,
  sport: number,
  dport: number,
  proto: number,
  packets: number,
  bytes: number,
) {
  const icmp = proto === 1 || proto === 58;
  return [src, dst, icmp ? '-' : sport, icmp ? '-' : dport, proto, packets, bytes].join(' ');
}

async function sendFrom(address: string, port: number, payloads: Buffer[]): Promise<void> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, address, resolve));
  for (const payload of payloads) {
    await new Promise<void>((resolve, reject) =>
      socket.send(payload, port, '127.0.0.1', (error) => (error ? reject(error) : resolve())),
    );
    await sleep(2); // templates must be learned before the data that needs them
  }
  socket.close();
}

test('tsunagi and nfdump decode every corpus vendor to the same records', { skip }, async (t) => {
  const all = vendorGroups();
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-nfdump-'));
  try {
    const port = await freeUdpPort();
    const nfcapd = startChild('nfcapd', ['-b', '127.0.0.1', '-p', String(port), '-w', dir, '-t', '3600']);
    await waitFor(() => readUdpSocket(port) !== undefined, 10_000, 'nfcapd to bind');
    const ours = new Map<string, string[]>();
    for (const [index, [, payloads]] of all.entries()) {
      const exporter = `127.77.${index >> 8}.${(index & 255) + 1}`;
      const decoder = createFlowDecoder(DecoderConfig.parse({}));
      const rows = decodeAll(decoder, payloads, { exporter });
      // nfcapd scales NetFlow v5 records by the header's sampling interval, as tsunagi does, and
      // leaves v9/IPFIX records as sent: compare those unscaled.
      ours.set(
        exporter,
        rows.map((r) => {
          const scale = r.version === 5 ? 1 : r.samplingRate;
          return recordKey(r.src, r.dst, r.srcPort, r.dstPort, r.proto, r.packets / scale, r.bytes / scale);
        }),
      );
      await sendFrom(exporter, port, payloads);
    }
    await waitFor(() => (readUdpSocket(port)?.rxQueue ?? 0) === 0, 10_000, 'nfcapd to drain its socket');
    nfcapd.kill('SIGTERM');
    assert.equal(await waitExit(nfcapd, 10_000), 0, `nfcapd exit: ${nfcapd.stderr()}`);
    // CSV prints IPv6 addresses in full and ICMP type/code as type * 256 + code, as tsunagi does.
    const [header, ...lines] = execFileSync('nfdump', ['-R', dir, '-N', '-o', 'csv'], {
      encoding: 'utf8',
      timeout: 30_000,
      maxBuffer: 64 * 1024 * 1024,
    })
      .split('\n')
      .filter((l) => /^\d{4}-|^ts,/.test(l));
    const column = Object.fromEntries(header!.split(',').map((name, i) => [name, i]));
    const theirs = new Map<string, string[]>();
    for (const line of lines) {
      const c = line.split(',').map((v) => v.trim());
      const protoNumber = PROTOCOLS[c[column.pr!]!] ?? Number(c[column.pr!]);
      const key = recordKey(
        c[column.sa!]!,
        c[column.da!]!,
        Number(c[column.sp!]),
        Number(c[column.dp!]),
        protoNumber,
        Number(c[column.ipkt!]),
        Number(c[column.ibyt!]),
      );
      const router = c[column.ra!]!;
      theirs.set(router, [...(theirs.get(router) ?? []), key]);
    }
    const report: string[] = [];
    const mismatches: string[] = [];
    for (const [index, [name]] of all.entries()) {
      const exporter = `127.77.${index >> 8}.${(index & 255) + 1}`;
      const o = [...(ours.get(exporter) ?? [])].sort();
      const n = [...(theirs.get(exporter) ?? [])].sort();
      report.push(`${name}: tsunagi ${o.length}, nfdump ${n.length}`);
      const known = KNOWN_DIFFERENCES[name];
      if (known) {
        if (o.length !== known.tsunagi || n.length !== known.nfdump)
          mismatches.push(
            `${name}: expected tsunagi ${known.tsunagi}, nfdump ${known.nfdump} (${known.why}); got ${o.length}, ${n.length}`,
          );
      } else if (JSON.stringify(o) !== JSON.stringify(n)) {
        const onlyOurs = o.filter((k) => !n.includes(k));
        const onlyTheirs = n.filter((k) => !o.includes(k));
        mismatches.push(
          `${name}: ours ${o.length}, nfdump ${n.length}; only ours ${JSON.stringify(onlyOurs.slice(0, 3))}; only nfdump ${JSON.stringify(onlyTheirs.slice(0, 3))}`,
        );
      }
    }
    const compared = all.filter(([name]) => !KNOWN_DIFFERENCES[name]).length;
    assert.ok(compared >= 50, `compared ${compared} vendors record by record`);
    t.diagnostic(report.join('; '));
    assert.deepEqual(mismatches, []);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
