/** Tests of darknet analysis: truth-labelled synthetic captures, fingerprints, rules, expiry, enrichment. */
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { UsageError } from '../core/index.ts';
import { buildTcpFrame, buildUdpFrame, forEachPacketInBuffer, LinkType, TcpFlag } from '../packet/index.ts';
import { DarknetAnalyzer } from './analyzer.ts';
import { formatHostsCsv } from './output.ts';
import { DarknetConfig } from './config.ts';
import { RangeTable, loadAsnFile, loadScannerFile, prefixRange } from './ranges.ts';
import { loadRuleFile } from './rules.ts';
import { SyntheticDarknet, buildIcmp4Frame } from './synth.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-darknet-'));
const T0 = Date.UTC(2025, 0, 15);

function analyzer(overrides: Record<string, unknown> = {}, deps = {}) {
  return new DarknetAnalyzer(DarknetConfig.parse({ prefixes: ['198.18.0.0/16'], ...overrides }), deps);
}

function feed(a: DarknetAnalyzer, frames: Buffer[], start = T0, stepMs = 1000) {
  frames.forEach((f, i) => a.observeFrame(LinkType.ETHERNET, f, start + i * stepMs));
}

const byIp = (a: DarknetAnalyzer) => new Map(a.sources().map((r) => [r.ip, r]));

describe('synthetic capture with truth labels', () => {
  test('yields exactly the Mirai-like and masscan-like hosts as infected, the rest apart', () => {
    const synthetic = new SyntheticDarknet({ seed: 7, noise: 300 });
    const scannerFile = join(dir, 'scanners.txt');
    writeFileSync(scannerFile, '# research scanners\n192.0.2.0/24,example-research\n');
    const a = analyzer({}, { scanners: loadScannerFile(scannerFile) });
    forEachPacketInBuffer(synthetic.toPcap(), (p) => a.observeFrame(p.linkType, p.data, p.timestampMs));
    a.finish();
    const records = a.sources();
    assert.equal(records.length, synthetic.truth.size);
    for (const r of records) {
      const truth = synthetic.truth.get(r.ip);
      assert.ok(truth, `unexpected source ${r.ip}`);
      assert.equal(r.class, truth.class, `${r.ip}: ${r.evidence}`);
      if (truth.class === 'infected') assert.equal(r.fingerprint, truth.fingerprint);
      const because = {
        mirai: /: TCP sequence = destination address in \d+\/\d+ \(\d+%\) SYN probes \(Mirai family\)$/,
        masscan: /: IP id = \(dst \^ dport \^ seq\) & 0xffff in \d+\/\d+ \(\d+%\) SYN probes \(masscan\)$/,
        zmap: /: IP id 54321 in \d+\/\d+ \(\d+%\) probes \(ZMap\)$/,
      }[r.fingerprint];
      if (because && r.class !== 'benign') assert.match(r.evidence, because);
    }
    const expected = [...synthetic.truth].filter(([, t]) => t.class === 'infected').map(([ip]) => ip);
    assert.deepEqual(a.infectedHosts().sort(), expected.sort());
    assert.ok(a.counters.notDarknet > 0, 'packets outside the darknet are counted');
    assert.equal(a.counters.darknet + a.counters.notDarknet, a.counters.frames);
    const indicators = a.indicators();
    assert.equal(indicators.length, expected.length);
    assert.equal(indicators[0]!.type, 'bot');
    assert.match(indicators[0]!.firstSeen, /^2025-01-15T/);
  });
});

const dst = (i: number) => `198.18.${i >> 8}.${i & 255}`;
const dstNum = (i: number) => ((198 << 24) | (18 << 16) | i) >>> 0;

describe('fingerprints', () => {
  test('Mirai: TCP sequence equals the destination address', () => {
    const a = analyzer();
    feed(
      a,
      [1, 2, 3].map((i) =>
        buildTcpFrame({ srcIp: '203.0.113.5', dstIp: dst(i), srcPort: 4000, dstPort: 23, seq: dstNum(i) }),
      ),
    );
    const r = byIp(a).get('203.0.113.5')!;
    assert.equal(r.class, 'infected');
    assert.equal(r.fingerprint, 'mirai');
    assert.match(r.evidence, /3\/3/);
  });

  test('masscan: IP id = (dst ^ dport ^ seq) & 0xffff; a near miss is not masscan', () => {
    const a = analyzer();
    const frames = [10, 20, 30].map((i) => {
      const seq = 0x12345678 + i;
      return buildTcpFrame({
        srcIp: '203.0.113.6',
        dstIp: dst(i),
        srcPort: 61000,
        dstPort: 80,
        seq,
        ipId: (dstNum(i) ^ 80 ^ seq) & 0xffff,
      });
    });
    const misses = [10, 20, 30].map((i) => {
      const seq = 0x12345678 + i;
      return buildTcpFrame({
        srcIp: '203.0.113.7',
        dstIp: dst(i),
        srcPort: 61000,
        dstPort: 80,
        seq,
        ipId: ((dstNum(i) ^ 80 ^ seq) + 1) & 0xffff,
      });
    });
    feed(a, [...frames, ...misses]);
    const sources = byIp(a);
    assert.equal(sources.get('203.0.113.6')!.fingerprint, 'masscan');
    assert.equal(sources.get('203.0.113.6')!.class, 'infected');
    assert.equal(sources.get('203.0.113.7')!.class, 'unknown');
    assert.equal(sources.get('203.0.113.7')!.fingerprint, '');
  });

  test('ZMap: IP id 54321, classified by configuration (unknown by default)', () => {
    const frames = [1, 2, 3].map((i) =>
      buildTcpFrame({
        srcIp: '203.0.113.8',
        dstIp: dst(i),
        srcPort: 5000,
        dstPort: 443,
        seq: 99 + i,
        ipId: 54321,
      }),
    );
    const a = analyzer();
    feed(a, frames);
    assert.deepEqual(
      [byIp(a).get('203.0.113.8')!.class, byIp(a).get('203.0.113.8')!.fingerprint],
      ['unknown', 'zmap'],
    );
    const b = analyzer({ classify: { fingerprintClass: { zmap: 'benign' } } });
    feed(b, frames);
    assert.equal(byIp(b).get('203.0.113.8')!.class, 'benign');
  });

  test('backscatter: SYN-ACK, RST and ICMP replies are kept apart from scanning', () => {
    const a = analyzer();
    feed(a, [
      buildTcpFrame({
        srcIp: '203.0.113.9',
        dstIp: dst(1),
        srcPort: 80,
        dstPort: 5555,
        flags: TcpFlag.SYN | TcpFlag.ACK,
        seq: dstNum(1),
      }),
      buildTcpFrame({ srcIp: '203.0.113.9', dstIp: dst(2), srcPort: 80, dstPort: 5556, flags: TcpFlag.RST }),
      buildIcmp4Frame('203.0.113.9', dst(3), 0, 0),
      buildIcmp4Frame('203.0.113.9', dst(4), 3, 1),
    ]);
    const r = byIp(a).get('203.0.113.9')!;
    assert.equal(r.class, 'backscatter');
    assert.equal(r.backscatter, 4);
    assert.equal(r.probes, 0);
    assert.deepEqual(r.protocols, ['tcp', 'icmp']);
  });
});

describe('fingerprints', () => {
  test('hosts.csv written from the table equals the records, ordered by class, packets and address', () => {
    const synthetic = new SyntheticDarknet({ seed: 21, noise: 3000, durationMs: 4 * 3600_000 });
    const scannerFile = join(dir, 'scanners-hosts.txt');
    writeFileSync(scannerFile, '192.0.2.0/24,example-research\n');
    const setups: [string, Record<string, unknown>, object][] = [
      ['defaults', {}, {}],
      // Sources idle for 10 minutes are retired: some addresses come back as one-packet senders.
      ['with retired sources', { sources: { capacity: 4096, idleTimeoutMs: 600_000 } }, {}],
      ['with a scanner list', {}, { scanners: loadScannerFile(scannerFile) }],
      ['one packet decides', { classify: { minPackets: 1 } }, {}],
    ];
    const v6 = [0, 1, 2].map((i) =>
      buildUdpFrame({
        srcIp: `2001:db8:1::${i + 1}`,
        dstIp: '2001:db8:dead::1',
        srcPort: 1,
        dstPort: 53 + i,
      }),
    );
    for (const [name, overrides, deps] of setups) {
      const a = analyzer({ prefixes: ['198.18.0.0/16', '2001:db8:dead::/48'], ...overrides }, deps);
      forEachPacketInBuffer(synthetic.toPcap(), (p) => a.observeFrame(p.linkType, p.data, p.timestampMs));
      feed(a, [v6[0]!, v6[1]!, v6[1]!, v6[2]!], T0 + 5 * 3600_000);
      a.finish();
      let text = '';
      const counts = a.writeHostsCsv((chunk) => (text += chunk));
      const records = a.sources();
      assert.equal(text, formatHostsCsv(records), name);
      assert.deepEqual(counts, {
        infected: records.filter((r) => r.class === 'infected').length,
        benign: records.filter((r) => r.class === 'benign').length,
        backscatter: records.filter((r) => r.class === 'backscatter').length,
        unknown: records.filter((r) => r.class === 'unknown').length,
      });
      assert.deepEqual(a.sourceCounts(), counts);
      const rank = { infected: 3, benign: 2, backscatter: 1, unknown: 0 };
      const value = (ip: string) =>
        ip.includes(':')
          ? 2 ** 32 + Number(ip.split(':').pop())
          : ip.split('.').reduce((v, o) => v * 256 + Number(o), 0);
      for (let i = 1; i < records.length; i++) {
        const [p, r] = [records[i - 1]!, records[i]!];
        const order = rank[p.class] - rank[r.class] || p.packets - r.packets || value(r.ip) - value(p.ip);
        assert.ok(order > 0, `${name}: ${p.ip} before ${r.ip}`);
      }
      assert.ok(
        records.some((r) => r.ip.includes(':')),
        'IPv6 sources are listed',
      );
      if (name === 'with retired sources') assert.ok(a.counters.expired > 0, 'sources were retired');
    }
  });

  test('IPv6 sources are tracked; the IPv4 fingerprints do not apply to them', () => {
    const a = analyzer({ prefixes: ['2001:db8:dead::/48'] });
    feed(a, [
      buildUdpFrame({ srcIp: '2001:db8:1::7', dstIp: '2001:db8:dead::1', srcPort: 1, dstPort: 161 }),
      buildUdpFrame({ srcIp: '2001:db8:1::7', dstIp: '2001:db8:dead::2', srcPort: 1, dstPort: 162 }),
      buildUdpFrame({ srcIp: '2001:db8:1::7', dstIp: '2001:db8:beef::2', srcPort: 1, dstPort: 162 }),
    ]);
    const r = byIp(a).get('2001:db8:1::7')!;
    assert.equal(r.packets, 2);
    assert.deepEqual(r.ports, [161, 162]);
    assert.equal(a.counters.notDarknet, 1);
  });
});

describe('user rules', () => {
  test('a YAML rule classifies matching sources and explains itself', () => {
    const file = join(dir, 'rules.yaml');
    writeFileSync(
      file,
      'rules:\n  - name: tr069-probe\n    class: infected\n    minHits: 2\n    match:\n      protocol: 6\n      dstPort: [7547, 5555]\n      ttl: { min: 30, max: 64 }\n',
    );
    const rules = loadRuleFile(file);
    const a = analyzer({ rules });
    feed(a, [
      buildTcpFrame({
        srcIp: '203.0.113.20',
        dstIp: '198.18.0.1',
        srcPort: 1,
        dstPort: 7547,
        ttl: 50,
        seq: 5,
      }),
      buildTcpFrame({
        srcIp: '203.0.113.20',
        dstIp: '198.18.0.2',
        srcPort: 1,
        dstPort: 5555,
        ttl: 50,
        seq: 6,
      }),
      // Same ports but TTL outside the range: no match.
      buildTcpFrame({
        srcIp: '203.0.113.21',
        dstIp: '198.18.0.1',
        srcPort: 1,
        dstPort: 7547,
        ttl: 120,
        seq: 5,
      }),
      buildTcpFrame({
        srcIp: '203.0.113.21',
        dstIp: '198.18.0.2',
        srcPort: 1,
        dstPort: 5555,
        ttl: 120,
        seq: 6,
      }),
    ]);
    const sources = byIp(a);
    assert.equal(sources.get('203.0.113.20')!.fingerprint, 'tr069-probe');
    assert.equal(sources.get('203.0.113.20')!.class, 'infected');
    assert.match(sources.get('203.0.113.20')!.evidence, /rule "tr069-probe" matched 2\/2/);
    assert.equal(sources.get('203.0.113.21')!.class, 'unknown');
  });

  test('a bad rule file is a usage error naming the problem', () => {
    const file = join(dir, 'bad-rules.yaml');
    writeFileSync(file, 'rules:\n  - name: x\n    match: { window: 5 }\n');
    assert.throws(
      () => loadRuleFile(file),
      (e: unknown) => e instanceof UsageError && /window|Unrecognized/.test((e as Error).message),
    );
  });
});

describe('bounded state', () => {
  test('idle sources expire; classified ones survive as records, unknowns are only counted', () => {
    const a = analyzer({ sources: { capacity: 64, idleTimeoutMs: 60_000 } });
    feed(
      a,
      [1, 2].map((i) =>
        buildTcpFrame({
          srcIp: '203.0.113.30',
          dstIp: `198.18.0.${i}`,
          srcPort: 1,
          dstPort: 23,
          seq: ((198 << 24) | (18 << 16) | i) >>> 0,
        }),
      ),
    );
    feed(
      a,
      [buildUdpFrame({ srcIp: '203.0.113.31', dstIp: '198.18.0.9', srcPort: 1, dstPort: 53 })],
      T0 + 2000,
    );
    // Ten minutes later another source arrives: the sweep runs and expires both.
    feed(
      a,
      [buildUdpFrame({ srcIp: '203.0.113.32', dstIp: '198.18.0.9', srcPort: 1, dstPort: 53 })],
      T0 + 600_000,
    );
    assert.equal(a.counters.expired, 2);
    assert.equal(a.table.size, 1);
    const sources = byIp(a);
    assert.equal(sources.get('203.0.113.30')!.class, 'infected');
    assert.equal(sources.has('203.0.113.31'), false);
  });

  test('a full table refuses new sources and counts their packets as untracked', () => {
    const a = analyzer({ sources: { capacity: 64 } });
    const frames = Array.from({ length: 100 }, (_, i) =>
      buildUdpFrame({ srcIp: `203.0.113.${i + 1}`, dstIp: '198.18.0.1', srcPort: 1, dstPort: 9 }),
    );
    feed(a, frames, T0, 1);
    assert.equal(a.table.size, 48);
    assert.equal(a.counters.untracked, 52);
    assert.equal(a.counters.darknet, 100);
  });
});

describe('enrichment', () => {
  test('ASN file: per-ASN statistics and infected hosts per ISP by ASN or prefix', () => {
    const asnFile = join(dir, 'asn.csv');
    writeFileSync(
      asnFile,
      'ip_range_start,ip_range_end,asn,as_organization\n203.0.113.0,203.0.113.127,64500,"Example, Inc."\n203.0.113.128,203.0.113.255,64501,Other\n2001:db8::,2001:db8:ffff:ffff:ffff:ffff:ffff:ffff,64502,V6\n',
    );
    const asn = loadAsnFile(asnFile);
    assert.equal(asn.rows[asn.lookupText('203.0.113.5')]!.name, 'Example, Inc.');
    assert.equal(asn.lookupText('198.51.100.1'), -1);
    assert.equal(asn.rows[asn.lookupText('2001:db8::9')]!.value, '64502');
    const a = analyzer(
      {
        isps: [
          { name: 'ispA', asns: [64500] },
          { name: 'ispB', prefixes: ['203.0.113.128/25'] },
        ],
      },
      { asn },
    );
    for (const src of ['203.0.113.5', '203.0.113.200']) {
      feed(
        a,
        [1, 2].map((i) =>
          buildTcpFrame({
            srcIp: src,
            dstIp: `198.18.0.${i}`,
            srcPort: 1,
            dstPort: 23,
            seq: ((198 << 24) | (18 << 16) | i) >>> 0,
          }),
        ),
      );
    }
    const byIsp = a.infectedHostsByIsp();
    assert.deepEqual(byIsp.get('ispA'), ['203.0.113.5']);
    assert.deepEqual(byIsp.get('ispB'), ['203.0.113.200']);
    const groups = a.groups('asn');
    assert.deepEqual(groups.map((g) => [g.key, g.packets, g.sources]).sort(), [
      ['64500', 2, 1],
      ['64501', 2, 1],
    ]);
  });

  test('prefix ranges for scanner lists cover the whole prefix', () => {
    assert.deepEqual(prefixRange('192.0.2.0/24', 'x'), {
      start: '192.0.2.0',
      end: '192.0.2.255',
      value: 'x',
    });
    const table = RangeTable.from([prefixRange('2001:db8:aa::/48', 'v6')]);
    assert.equal(table.lookupText('2001:db8:aa:ffff::1'), 0);
    assert.equal(table.lookupText('2001:db8:ab::1'), -1);
  });
});
