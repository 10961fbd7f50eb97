/**
 * The MRT RIB decoder, checked against bgpdump (libbgpdump, Debian) reading the same file: a
 * TABLE_DUMP_V2 dump with IPv4 and IPv6 routes from two peers, an AS_SET origin and an ADD-PATH
 * record.
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { after, describe, test } from 'node:test';
import ipaddr from 'ipaddr.js';
import { MrtFormatError, parseMrtRib } from './mrt.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-mrt-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const u8 = (n: number) => Buffer.from([n]);
const u16 = (n: number) => Buffer.from([n >> 8, n & 255]);
const u32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n >>> 0);
  return b;
};

function record(subtype: number, body: Buffer): Buffer {
  return Buffer.concat([u32(1764892800), u16(13), u16(subtype), u32(body.length), body]);
}

function peerIndex(): Buffer {
  const peer = (ip: string, asn: number) => {
    const v6 = ip.includes(':');
    return Buffer.concat([
      u8((v6 ? 1 : 0) | 2),
      Buffer.from(ipaddr.parse('192.0.2.254').toByteArray()),
      Buffer.from(ipaddr.parse(ip).toByteArray()),
      u32(asn),
    ]);
  };
  const view = Buffer.from('');
  return record(
    1,
    Buffer.concat([
      Buffer.from([192, 0, 2, 1]),
      u16(view.length),
      view,
      u16(2),
      peer('192.0.2.254', 64496),
      peer('2001:db8::fe', 64497),
    ]),
  );
}

type Segment = [type: 1 | 2, asns: number[]];
function attributes(path: Segment[], v6: boolean): Buffer {
  const segments = Buffer.concat(
    path.map(([type, asns]) => Buffer.concat([u8(type), u8(asns.length), ...asns.map(u32)])),
  );
  const origin = Buffer.from([0x40, 1, 1, 0]);
  const asPath = Buffer.concat([Buffer.from([0x50, 2]), u16(segments.length), segments]);
  const nextHop = v6
    ? Buffer.concat([
        Buffer.from([0x80, 14, 17, 16]),
        Buffer.from(ipaddr.parse('2001:db8::fe').toByteArray()),
      ])
    : Buffer.from([0x40, 3, 4, 192, 0, 2, 254]);
  return Buffer.concat([origin, asPath, nextHop]);
}

function rib(
  sequence: number,
  prefix: string,
  entries: [peer: number, path: Segment[]][],
  addPath = false,
): Buffer {
  const [address, bits] = ipaddr.parseCIDR(prefix);
  const v6 = address.kind() === 'ipv6';
  const subtype = (v6 ? 4 : 2) + (addPath ? 6 : 0);
  const body = Buffer.concat([
    u32(sequence),
    u8(bits),
    Buffer.from(address.toByteArray().slice(0, Math.ceil(bits / 8))),
    u16(entries.length),
    ...entries.map(([peer, path], i) => {
      const attrs = attributes(path, v6);
      return Buffer.concat([
        u16(peer),
        u32(1764800000),
        ...(addPath ? [u32(i + 1)] : []),
        u16(attrs.length),
        attrs,
      ]);
    }),
  ]);
  return record(subtype, body);
}

/** What bgpdump 1.6 can read too (it predates ADD-PATH, RFC 8050). */
const PLAIN = Buffer.concat([
  peerIndex(),
  rib(0, '192.0.2.0/24', [
    [0, [[2, [64496, 64500]]]],
    [1, [[2, [64497, 64510, 64500]]]],
  ]),
  rib(1, '198.51.100.0/22', [[0, [[2, [64496, 64501]]]]]),
  rib(2, '203.0.113.0/24', [
    [
      0,
      [
        [2, [64496]],
        [1, [64502, 64503]],
      ],
    ],
  ]),
  rib(3, '2001:db8:100::/40', [[1, [[2, [64497, 64504]]]]]),
]);
const DUMP = Buffer.concat([PLAIN, rib(4, '10.0.0.0/8', [[0, [[2, [64496, 4200000000]]]]], true)]);

const bgpdumpMissing = spawnSync('sh', ['-c', 'command -v bgpdump']).status !== 0;

describe('MRT TABLE_DUMP_V2 RIB dumps', () => {
  test('routes with their origins; AS_SET origins left out; ADD-PATH read', () => {
    const { routes, skippedAsSets } = parseMrtRib(DUMP);
    assert.deepEqual(routes, [
      { prefix: '192.0.2.0/24', originAsn: 64500 },
      { prefix: '198.51.100.0/22', originAsn: 64501 },
      { prefix: '2001:db8:100::/40', originAsn: 64504 },
      { prefix: '10.0.0.0/8', originAsn: 4200000000 },
    ]);
    assert.equal(skippedAsSets, 1);
    assert.deepEqual(parseMrtRib(gzipSync(DUMP)).routes, routes, 'gzip-compressed dumps too');
  });

  test('truncated and foreign records are errors, not crashes', () => {
    assert.throws(() => parseMrtRib(DUMP.subarray(0, DUMP.length - 3)), /runs past the end/);
    assert.throws(() => parseMrtRib(Buffer.from('definitely, not what anyone expects\n')), MrtFormatError);
    assert.throws(() => parseMrtRib(Buffer.from([0x1f, 0x8b, 0, 0])), /gzip data is corrupt/);
  });

  test(
    'bgpdump reads the same routes from the same file',
    { skip: bgpdumpMissing && 'needs bgpdump (Debian package bgpdump; scripts/install-test-tools.sh)' },
    () => {
      const file = join(dir, 'rib.mrt');
      writeFileSync(file, PLAIN);
      const result = spawnSync('bgpdump', ['-m', file], { encoding: 'utf8' });
      assert.equal(result.status, 0, result.stderr);
      const theirs = new Set<string>();
      for (const line of result.stdout.trim().split('\n')) {
        const fields = line.split('|');
        const last = fields[6]!.split(' ').at(-1)!;
        if (!last.startsWith('{')) theirs.add(`${fields[5]} ${last}`);
      }
      assert.equal(theirs.size, 3);
      const ours = new Set(parseMrtRib(PLAIN).routes.map((r) => `${r.prefix} ${r.originAsn}`));
      assert.deepEqual([...ours].sort(), [...theirs].sort());
    },
  );
});
