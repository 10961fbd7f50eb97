import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { z } from 'zod';
import { UsageError } from './errors.ts';
import { loadConfig, overridesFromEnv } from './config.ts';

const Schema = z.object({
  name: z.string().default('tsunagi'),
  flow: z
    .object({
      listen: z.array(z.string()).default(['0.0.0.0:2055']),
      batchSize: z.number().int().default(4096),
    })
    .prefault({}),
});

test('defaults apply when no source gives a value', () => {
  assert.deepEqual(loadConfig(Schema), {
    name: 'tsunagi',
    flow: { listen: ['0.0.0.0:2055'], batchSize: 4096 },
  });
});

test('file, then environment, then flags override each other', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-config-'));
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'name: from-file\nflow:\n  batchSize: 100\n  listen: ["127.0.0.1:1"]\n');
  const config = loadConfig(Schema, {
    file,
    env: { TSUNAGI_FLOW__BATCH_SIZE: '200', TSUNAGI_NAME: 'from-env', UNRELATED: 'x' },
    flags: { name: 'from-flag' },
  });
  assert.deepEqual(config, { name: 'from-flag', flow: { listen: ['127.0.0.1:1'], batchSize: 200 } });
});

test('environment names nest on double underscores and read JSON values', () => {
  assert.deepEqual(overridesFromEnv({ TSUNAGI_FLOW__LISTEN: '["a:1","b:2"]', TSUNAGI_LOG__LEVEL: 'debug' }), {
    flow: { listen: ['a:1', 'b:2'] },
    log: { level: 'debug' },
  });
});

test('a bad value is a usage error naming its path', () => {
  assert.throws(
    () => loadConfig(Schema, { flags: { flow: { batchSize: 'many' } } }),
    (error: unknown) => error instanceof UsageError && /flow\.batchSize/.test(error.message),
  );
});

test('an unreadable or malformed file is a usage error', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-config-'));
  assert.throws(() => loadConfig(Schema, { file: join(dir, 'missing.yaml') }), UsageError);
  const bad = join(dir, 'bad.json');
  writeFileSync(bad, '{not json');
  assert.throws(() => loadConfig(Schema, { file: bad }), UsageError);
  const list = join(dir, 'list.yaml');
  writeFileSync(list, '- a\n- b\n');
  assert.throws(() => loadConfig(Schema, { file: list }), UsageError);
});
