/** The plain exports: exact text for each format, and nothing that must not leave. */
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { test } from 'node:test';
import { PrefixSet } from '../core/index.ts';
import type { Indicator } from '../intel/index.ts';
import { botList, c2Csv, c2FeodoCsv, c2Text, rpzIpTrigger, rpzZone, suricataRules } from './exports.ts';
import { mispFeed } from './misp.ts';

function ind(over: Partial<Indicator>): Indicator {
  return {
    id: 'id-1',
    kind: 'c2',
    value: '198.51.100.7',
    port: 443,
    proto: 'tcp',
    family: 'mirai',
    confidence: 80,
    tier: 'council',
    tlp: 'amber+strict',
    asn: null,
    attributes: {},
    firstSeen: '2026-01-01T00:00:00.000Z',
    lastSeen: '2026-01-02T00:00:00.000Z',
    expiresAt: '2026-02-01T00:00:00.000Z',
    withdrawnAt: null,
    withdrawnReason: null,
    createdAt: '2026-01-01T00:00:00.000Z',
    modifiedAt: '2026-01-02T00:00:00.000Z',
    ...over,
  };
}
const list = [
  ind({}),
  ind({ id: 'id-2', value: '2001:db8::1', port: 8443, family: 'a,"b"' }),
  ind({ id: 'id-3', kind: 'domain', value: 'evil.example', port: 0, proto: '' }),
  ind({ id: 'id-4', kind: 'bot', value: '192.0.2.9', port: 0, proto: '', asn: 64501 }),
  ind({ id: 'id-5', kind: 'bot', value: '192.0.2.200', port: 0, proto: '' }),
];

test('C&C CSV and ip:port lists hold no timestamps and quote what needs quoting', () => {
  assert.equal(
    c2Csv(list, { withConfidence: true }),
    'ip,port,proto,confidence,family\n198.51.100.7,443,tcp,80,mirai\n2001:db8::1,8443,tcp,80,"a,""b"""\n',
  );
  assert.equal(c2Csv(list, { withConfidence: false }).split('\n')[1], '198.51.100.7,443,tcp,,mirai');
  assert.equal(
    c2FeodoCsv(list, { withConfidence: true }),
    '# tsunagi C&C server list: address, port, protocol, confidence and family only\ndst_ip,dst_port,proto,confidence,malware\n198.51.100.7,443,tcp,80,mirai\n2001:db8::1,8443,tcp,80,"a,""b"""\n',
  );
  assert.equal(c2FeodoCsv(list, { withConfidence: false }).split('\n')[1], 'dst_ip,dst_port,proto,malware');
  assert.equal(c2Text(list), '198.51.100.7:443\n[2001:db8::1]:8443\n');
});

test('bot lists keep to the reader’s own prefixes and ASNs', () => {
  assert.equal(botList(list, { prefixes: new PrefixSet(['192.0.2.128/25']), asns: [] }), '192.0.2.200\n');
  assert.equal(botList(list, { prefixes: new PrefixSet(), asns: [64501] }), '192.0.2.9\n');
  assert.equal(botList(list, { prefixes: new PrefixSet(), asns: [] }), '');
  assert.equal(botList(list, { prefixes: new PrefixSet(), asns: [], all: true }), '192.0.2.9\n192.0.2.200\n');
});

test('RPZ and Suricata', () => {
  assert.equal(
    rpzZone(list, 'rpz.tsunagi', 7),
    '$TTL 300\n@ SOA localhost. hostmaster.rpz.tsunagi. 7 3600 600 86400 300\n@ NS localhost.\n' +
      '32.7.100.51.198.rpz-ip CNAME . ; C&C 198.51.100.7 mirai\n' +
      '128.1.zz.db8.2001.rpz-ip CNAME . ; C&C 2001:db8::1 a__b_\n' +
      'evil.example CNAME .\n*.evil.example CNAME .\n',
  );
  assert.equal(rpzIpTrigger('1.2.3.4'), '32.4.3.2.1.rpz-ip');
  assert.equal(rpzIpTrigger('2001:db8:0:1:0:0:0:5'), '128.5.zz.1.0.db8.2001.rpz-ip', 'the longest zero run');
  assert.equal(
    rpzIpTrigger('2001:db8:1:2:3:4:0:5'),
    '128.5.0.4.3.2.1.db8.2001.rpz-ip',
    'one zero group stays',
  );
  const rules = suricataRules(list).trim().split('\n');
  assert.equal(rules.length, 4);
  assert.match(
    rules[1]!,
    /^alert tcp \$HOME_NET any -> 198\.51\.100\.7 443 \(msg:"tsunagi C&C mirai 198\.51\.100\.7:443"; classtype:trojan-activity; sid:\d{10}; rev:1; metadata:confidence 80;\)$/,
  );
  assert.ok(!rules[2]!.includes('"b"'), 'quotes in a family cannot break out of msg');
  assert.match(rules[3]!, /^alert dns .* content:"\.evil\.example"; endswith; nocase;/);
  // A sid must not change between runs, releases or list orders (IDS consoles key alerts on it):
  // pinned values, the same for an indicator wherever it stands in the list.
  const sids = (text: string) => [...text.matchAll(/sid:(\d+);/g)].map((m) => Number(m[1]));
  assert.deepEqual(sids(suricataRules(list)), [1349381155, 1887551688, 1535710034]);
  assert.deepEqual(sids(suricataRules([list[2]!, list[0]!])), [1535710034, 1349381155]);
  assert.deepEqual(sids(suricataRules([ind({ value: '203.0.113.1', confidence: 10 })])), [1349381155]);
});

test('MISP feed: fixed event uuid per tier, attributes without times, hashes of values', () => {
  const feed = mispFeed(list, 'council', { name: 'hub' }, new Date('2026-03-01T00:00:00Z'));
  assert.equal(feed.eventUuid, mispFeed([], 'council', { name: 'hub' }).eventUuid);
  assert.notEqual(feed.eventUuid, mispFeed([], 'public', { name: 'hub' }).eventUuid);
  const attrs = feed.event.Event.Attribute as { type: string; value: string; comment: string }[];
  assert.deepEqual(
    attrs.map((a) => [a.type, a.value]),
    [
      ['ip-dst|port', '198.51.100.7|443'],
      ['ip-dst|port', '2001:db8::1|8443'],
      ['domain', 'evil.example'],
    ],
  );
  assert.ok(!JSON.stringify(attrs).includes('2026-01'), 'no observation times');
  assert.ok(
    feed.hashes.includes(`${createHash('md5').update('198.51.100.7').digest('hex')},${feed.eventUuid}`),
  );
  assert.deepEqual(Object.keys(feed.manifest), [feed.eventUuid]);
  assert.ok(!JSON.stringify(mispFeed(list, 'public', { name: 'hub' }).event).includes('confidence'));
});
