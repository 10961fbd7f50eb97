/**
 * Real exporter payloads (Telegraf and Logstash test corpora) through the decoder: everything
 * decodes, invalid packets are counted, and rows agree with Telegraf's expected output.
 */
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { DecoderConfig } from '../config.ts';
import { createFlowDecoder, errorTotal } from './decoder.ts';
import { LOGSTASH, TELEGRAF } from '../testdata/corpus.ts';
import { decodeAll, type Row } from '../testdata/rows.ts';

/** One InfluxDB line-protocol line: measurement, tags and fields (strings unquoted). */
interface Line {
  measurement: string;
  tags: Record<string, string>;
  fields: Record<string, string>;
}

function parseLine(line: string): Line {
  // Split on spaces outside quotes: "measurement,tags fields timestamp".
  const parts: string[] = [];
  let current = '';
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    if (ch === ' ' && !quoted) {
      parts.push(current);
      current = '';
    } else current += ch;
  }
  parts.push(current);
  const [head = '', body = ''] = parts;
  const [measurement = '', ...tagParts] = head.split(',');
  const tags = Object.fromEntries(tagParts.map((t) => t.split('=') as [string, string]));
  const fields: Record<string, string> = {};
  let key = '';
  let value = '';
  let inKey = true;
  quoted = false;
  const flush = () => {
    if (key) fields[key] = value.replace(/^"|"$/g, '').replace(/u$/, value.startsWith('"') ? 'u' : '');
    key = '';
    value = '';
    inKey = true;
  };
  for (const ch of body) {
    if (inKey) {
      if (ch === '=') inKey = false;
      else key += ch;
      continue;
    }
    if (ch === '"') quoted = !quoted;
    if (ch === ',' && !quoted) flush();
    else value += ch;
  }
  flush();
  return { measurement, tags, fields };
}

const PROTOCOL_NUMBERS: Record<string, number> = {
  icmp: 1,
  tcp: 6,
  udp: 17,
  gre: 47,
  esp: 50,
  'ipv6-icmp': 58,
  sctp: 132,
};

/** Telegraf prints TCP flags as 8 characters "CEUAPRSF" with '.' for clear bits. */
function parseFlags(text: string): number {
  let flags = 0;
  for (let i = 0; i < 8; i++) if (text[i] !== '.') flags |= 1 << (7 - i);
  return flags;
}

/**
 * Compares one of our rows with one Telegraf line on every field both carry. Returns the list
 * of disagreements (empty when they agree).
 */
function compare(row: Row, line: Line): string[] {
  const f = line.fields;
  const problems: string[] = [];
  const check = (name: string, ours: number | string, theirs: number | string | undefined) => {
    if (theirs !== undefined && String(ours) !== String(theirs))
      problems.push(`${name}: ours ${ours}, telegraf ${theirs}`);
  };
  check('src', row.src, f.src);
  check('dst', row.dst, f.dst);
  check('src_port', row.srcPort, f.src_port);
  check('dst_port', row.dstPort, f.dst_port);
  if (f.protocol !== undefined) check('protocol', row.proto, PROTOCOL_NUMBERS[f.protocol] ?? f.protocol);
  if (f.tcp_flags !== undefined) check('tcp_flags', row.tcpFlags, parseFlags(f.tcp_flags));
  const sampled = (v: string | undefined) => (v === undefined ? undefined : Number(v) * row.samplingRate);
  check('packets', row.packets, sampled(f.in_packets ?? f.in_total_packets));
  check('bytes', row.bytes, sampled(f.in_bytes ?? f.in_total_bytes));
  check('start_ms', row.startMs, f.flow_start_ms);
  check('end_ms', row.endMs, f.flow_end_ms);
  // NetFlow v5 carries uptime stamps only: the duration must match.
  if (f.first_switched !== undefined && f.last_switched !== undefined && f.flow_start_ms === undefined) {
    check('duration', row.endMs - row.startMs, Number(f.last_switched) - Number(f.first_switched));
  }
  return problems;
}

function payloadsOf(dir: string): Buffer[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.bin'))
    .sort()
    .map((f) => readFileSync(join(dir, f)));
}

describe('telegraf corpus', () => {
  const folders = readdirSync(TELEGRAF).filter(
    (d) => !d.startsWith('sflow') && existsSync(join(TELEGRAF, d, 'expected.out')),
  );
  for (const folder of folders) {
    test(`${folder}: rows agree with expected.out`, () => {
      const decoder = createFlowDecoder(DecoderConfig.parse({}));
      const rows = decodeAll(decoder, payloadsOf(join(TELEGRAF, folder)), { exporter: '127.0.0.1' });
      const expected = readFileSync(join(TELEGRAF, folder, 'expected.out'), 'utf8')
        .split('\n')
        .filter((l) => l.trim())
        .map(parseLine)
        .filter((l) => l.measurement === 'netflow' && l.fields.src !== undefined);
      // issue_14370's last set runs past the message: its complete record is decoded, and counted.
      const expectedErrors = folder === 'issue_14370' ? { set_truncated: 1 } : {};
      assert.deepEqual(decoder.stats.errors.ipfix, expectedErrors);
      assert.equal(errorTotal(decoder.stats), errorTotal(decoder.stats, 'ipfix'));
      assert.equal(rows.length, expected.length, 'one row per flow record');
      const problems = rows.flatMap((row, i) => compare(row, expected[i]!).map((p) => `record ${i}: ${p}`));
      assert.deepEqual(problems, []);
    });
  }

  test('options-only folders learn from options and write no rows', () => {
    for (const folder of ['netflow_v9_options', 'ipfix_options']) {
      const decoder = createFlowDecoder(DecoderConfig.parse({}));
      const rows = decodeAll(decoder, payloadsOf(join(TELEGRAF, folder)));
      assert.equal(rows.length, 0, folder);
      assert.ok(decoder.stats.optionsRecords.netflow9 + decoder.stats.optionsRecords.ipfix > 0, folder);
      assert.equal(errorTotal(decoder.stats), 0, `${folder}: ${JSON.stringify(decoder.stats.errors)}`);
    }
  });
});

/** Logstash names files vendor_tpl*.dat / vendor_data*.dat: group them, templates first. */
function logstashGroups(): Map<string, string[]> {
  const groups = new Map<string, string[]>();
  for (const file of readdirSync(LOGSTASH).filter((f) => f.endsWith('.dat'))) {
    const vendor = file.replace(/\.dat$/, '').replace(/_(tpl|data|opttpl|tplopt|tpls|tpldata).*$/, '');
    const list = groups.get(vendor) ?? [];
    list.push(file);
    groups.set(vendor, list);
  }
  const rank = (f: string) => (/_(tpl|opttpl|tpls|tplopt)/.test(f) && !/_tpldata|_tpl_data/.test(f) ? 0 : 1);
  for (const list of groups.values()) list.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
  return groups;
}

/** Files that are broken on purpose (or carry trailing garbage) and must yield counted errors. */
const INVALID = new Set(['netflow5_test_invalid01.dat', 'netflow5_test_invalid02.dat', 'netflow5.dat']);

describe('logstash corpus', () => {
  const groups = logstashGroups();
  let vendorIndex = 0;
  for (const [vendor, files] of groups) {
    const exporter = `198.51.100.${++vendorIndex}`;
    test(`${vendor}: ${files.join(', ')}`, () => {
      const decoder = createFlowDecoder(DecoderConfig.parse({}));
      let rows = 0;
      for (const file of files) {
        const before = errorTotal(decoder.stats);
        const got = decodeAll(decoder, [readFileSync(join(LOGSTASH, file))], { exporter });
        rows += got.length;
        const errors = errorTotal(decoder.stats) - before;
        if (INVALID.has(file)) assert.ok(errors > 0, `${file} should produce counted errors`);
        else assert.equal(errors, 0, `${file}: ${JSON.stringify(decoder.stats.errors)}`);
        for (const row of got) {
          assert.ok(row.version === 5 || row.version === 9 || row.version === 10);
          assert.ok(Number.isFinite(row.startMs) && Number.isFinite(row.endMs), `${file}: finite times`);
          assert.ok(row.packets >= 0 && row.bytes >= 0);
        }
      }
      const s = decoder.stats;
      const learned =
        s.templates.learned.netflow9 +
        s.templates.learned.ipfix +
        s.optionsRecords.netflow9 +
        s.optionsRecords.ipfix;
      assert.ok(rows > 0 || learned > 0, 'decodes rows or learns templates/options');
      assert.equal(s.packets.unknown, 0);
    });
  }

  test('netflow9_test_invalid01: sampling interval from options data scales both flows', () => {
    const decoder = createFlowDecoder(DecoderConfig.parse({}));
    const rows = decodeAll(decoder, [readFileSync(join(LOGSTASH, 'netflow9_test_invalid01.dat'))]);
    assert.deepEqual(
      rows.map((r) => [r.src, r.dst, r.srcPort, r.dstPort, r.proto, r.packets, r.bytes, r.samplingRate]),
      [
        ['2001:44b8:1118:7200::10', '2001:44b8:4030:cd91:8075:bae:d39d:2621', 123, 123, 17, 100, 9600, 100],
        ['192.168.0.1', '192.168.0.105', 53, 55575, 17, 100, 9800, 100],
      ],
    );
  });

  test('netflow5 with a wrong count decodes the records that fit and counts the mismatch', () => {
    const decoder = createFlowDecoder(DecoderConfig.parse({}));
    const payload = readFileSync(join(LOGSTASH, 'netflow5.dat'));
    const rows = decodeAll(decoder, [payload]);
    assert.equal(payload.readUInt16BE(2), 2);
    assert.equal(rows.length, 2);
    assert.equal(decoder.stats.errors.netflow5.length_mismatch, 1);
  });
});
