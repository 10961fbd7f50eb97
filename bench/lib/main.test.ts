import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runBench } from './main.ts';

test('what stops a benchmark is one line and exit code 2; a finished run leaves the code alone', async (t) => {
  const written: string[] = [];
  t.mock.method(process.stderr, 'write', (chunk: string) => written.push(chunk) > 0);
  const before = process.exitCode;
  try {
    await runBench('bench:x', async () => {
      throw new Error('/nowhere has no data');
    });
    assert.deepEqual(written, ['bench:x: /nowhere has no data\n']);
    assert.equal(process.exitCode, 2);
    process.exitCode = before;
    await runBench('bench:x', async () => {});
    assert.equal(process.exitCode, before);
    assert.equal(written.length, 1);
  } finally {
    process.exitCode = before;
  }
});
