/**
 * One C&C list format end to end: what `detect` writes, `import` reads and `export c2` writes
 * back unchanged; the other formats only by name.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { after, test } from 'node:test';
import { C2_LIST_HEADER, formatC2List } from '../core/index.ts';
import { formatShareCsv } from '../detect/index.ts';
import { main } from './main.ts';

const dir = mkdtempSync(join(tmpdir(), 'tsunagi-c2list-'));
after(() => rmSync(dir, { recursive: true, force: true }));

async function run(...argv: string[]) {
  let out = '';
  const sink = (append: boolean) =>
    new Writable({
      write(chunk, _encoding, done) {
        if (append) out += String(chunk);
        done();
      },
    });
  const code = await main([...argv, '--data', join(dir, 'data')], {
    stdout: sink(true),
    stderr: sink(false),
    env: {},
    interactive: false,
  });
  assert.equal(code, 0, argv.join(' '));
  return out;
}

test('detect, import and export c2 share ip,port,proto,confidence,family', async () => {
  const rows = [
    { ip: '198.51.100.7', port: 443, proto: 'tcp', confidence: 80, family: 'mirai' },
    { ip: '2001:db8::1', port: 8443, proto: 'udp', confidence: 65, family: 'a,"b"' },
  ];
  const list = formatShareCsv(rows);
  assert.equal(list, formatC2List(rows));
  assert.equal(list.split('\n')[0], C2_LIST_HEADER);
  const file = join(dir, 'c2.csv');
  writeFileSync(file, list);
  await run('org', 'add', 'ISP', '--role', 'isp', '--consent');
  await run('import', file, '--org', 'ISP');
  // Confidence as submitted, rows in address order: the list comes back as it went in.
  assert.equal(await run('export', 'c2'), list);
  assert.match(
    await run('export', 'c2', '--format', 'feodo'),
    /^# .*\ndst_ip,dst_port,proto,confidence,malware\n/,
  );
  assert.equal(await run('export', 'c2', '--format', 'txt'), '198.51.100.7:443\n[2001:db8::1]:8443\n');
  assert.match(
    await run('export', 'rpz'),
    /^32\.7\.100\.51\.198\.rpz-ip CNAME \. ; C&C 198\.51\.100\.7 mirai$/m,
  );
  const event = JSON.parse(await run('export', 'misp')) as { Event: { Attribute: { value: string }[] } };
  assert.deepEqual(
    event.Event.Attribute.map((a) => a.value),
    ['198.51.100.7|443', '2001:db8::1|8443'],
  );
  await run('export', 'misp', '--out-dir', join(dir, 'feed'));
  assert.deepEqual(
    readdirSync(join(dir, 'feed')).filter((f) => !/^[0-9a-f-]{36}\.json$/.test(f)),
    ['hashes.csv', 'manifest.json'],
  );
  assert.equal(readdirSync(join(dir, 'feed')).length, 3);
});
