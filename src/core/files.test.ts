import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { makeDirectories, writeFileAtomic } from './files.ts';

test('writeFileAtomic replaces the file whole, creates its directory and leaves no temporary behind', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-files-'));
  const path = join(dir, 'nested', 'state.json');
  writeFileAtomic(path, '{"a":1}');
  assert.equal(statSync(path).mode & 0o777, 0o600, 'state is private by default');
  assert.equal(statSync(join(dir, 'nested')).mode & 0o777, 0o700);
  writeFileAtomic(path, '{"a":2}', { mode: 0o600 });
  assert.equal(readFileSync(path, 'utf8'), '{"a":2}');
  assert.equal(statSync(path).mode & 0o777, 0o600);
  assert.ok(!existsSync(`${path}.tmp`));
});

test('makeDirectories makes every missing level with its mode, and accepts what exists', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-files-'));
  const deep = join(dir, 'a', 'b', 'c');
  makeDirectories(deep, 0o700);
  assert.ok(statSync(deep).isDirectory());
  assert.equal(statSync(join(dir, 'a')).mode & 0o777, 0o700);
  makeDirectories(deep);
  makeDirectories(dir);
});

test('makeDirectories fails at once where mkdir -p cannot succeed: under /proc, through a file, on a file', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-files-'));
  const file = join(dir, 'plain');
  writeFileSync(file, 'x');
  // Node's { recursive: true } never returns for this one (it retries the kernel's ENOENT).
  if (existsSync('/proc/self'))
    assert.throws(() => makeDirectories('/proc/tsunagi-no-such/x'), { code: 'ENOENT' });
  assert.throws(() => makeDirectories(join(file, 'x')), { code: 'ENOTDIR' });
  assert.throws(() => makeDirectories(file), { code: 'EEXIST' });
});
