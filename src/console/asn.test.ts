import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { createAsnDirectory } from './asn.ts';

test('AS of an address by binary search over the ranges, names with quotes and commas', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-asn-'));
  writeFileSync(
    join(dir, 'asn-ipv4-num.csv'),
    [
      '16777216,16777471,13335,"Cloudflare, Inc."',
      '16778240,16779263,38803,Gtelecom Pty Ltd',
      'bad line',
      '',
    ].join('\n'),
  );
  // 2001:db8::/32 -> AS 64500
  writeFileSync(
    join(dir, 'asn-ipv6-num.csv'),
    '42540766411282592856903984951653826560,42540766490510755371168322545197776895,64500,"Doc ""Net"""\n',
  );
  const d = createAsnDirectory(dir);
  assert.equal(d.asnOf('1.0.0.1'), null, 'nothing answers before ready()');
  await d.ready();
  assert.equal(d.asnOf('1.0.0.0'), 13335);
  assert.equal(d.asnOf('1.0.0.255'), 13335);
  assert.equal(d.asnOf('1.0.1.0'), null, 'between two ranges');
  assert.equal(d.asnOf('1.0.4.7'), 38803);
  assert.equal(d.asnOf('0.0.0.1'), null, 'before the first range');
  assert.equal(d.asnOf('255.255.255.255'), null, 'after the last');
  assert.equal(d.asnOf('not an address'), null);
  assert.equal(d.asnOf('2001:db8::1'), 64500);
  assert.equal(d.asnOf('2001:db9::1'), null);
  assert.equal(d.nameOf(13335), 'Cloudflare, Inc.');
  assert.equal(d.nameOf(64500), 'Doc "Net"');
  assert.equal(d.nameOf(1), undefined);
});

test('a missing database answers "unknown" instead of failing', async () => {
  const d = createAsnDirectory(join(tmpdir(), 'no-such-asn-db'));
  await d.ready();
  assert.equal(d.asnOf('1.1.1.1'), null);
  assert.equal(d.nameOf(13335), undefined);
});

test('the bundled database knows well-known networks', async () => {
  const d = createAsnDirectory();
  await d.ready();
  assert.equal(d.asnOf('1.1.1.1'), 13335);
  assert.match(d.nameOf(13335) ?? '', /Cloudflare/);
});
