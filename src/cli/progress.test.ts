import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { StatusLine, progressBar } from './progress.ts';

function capture(interactive: boolean) {
  const stderr = new PassThrough();
  let text = '';
  stderr.on('data', (chunk: Buffer) => (text += chunk.toString()));
  const ctx = { stdout: new PassThrough(), stderr, env: {}, interactive };
  return { ctx, text: () => text };
}

test('a status line skips reports inside its interval but never the final one', () => {
  const out = capture(false);
  const status = new StatusLine(out.ctx, 60_000);
  status.update('1/3');
  status.update('2/3');
  status.update('3/3', true);
  status.done('finished');
  assert.equal(out.text(), '1/3\n3/3\nfinished\n');
});

test('a progress bar is full at the end and empty with no total', () => {
  assert.equal(progressBar(4, 4, 4), '[####] 100%');
  assert.equal(progressBar(0, 0, 4), '[....]   0%');
});
