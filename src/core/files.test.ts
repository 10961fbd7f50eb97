import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { writeFileAtomic } from './files.ts';

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
