import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createLogger } from '../core/index.ts';
import { createReporter, formatLogLine, humanLogStream, languageOf } from './reporter.ts';

const candidate = {
  ip: '1.2.3.4',
  port: 443,
  proto: 6,
  confidence: 85,
  family: 'family-a',
  evidence: { bots: 5 },
};

test('a publication, an update and a withdrawal are one readable line each, in English or Japanese', () => {
  const lines: string[] = [];
  const en = createReporter((line) => lines.push(line), 'en');
  en.published(candidate, 'new');
  en.published({ ...candidate, ip: '2001:db8::1', proto: 17, family: '', confidence: 70 }, 'changed');
  en.withdrawn(candidate, 'expired');
  createReporter((line) => lines.push(line), 'ja').published(candidate, 'new');
  assert.deepEqual(lines, [
    'C&C 1.2.3.4:443/tcp family-a confidence 85 (bots 5)',
    'C&C updated [2001:db8::1]:443/udp confidence 70 (bots 5)',
    'C&C withdrawn 1.2.3.4:443/tcp: no bot contact within the expiry',
    'C&C 1.2.3.4:443/tcp family-a 確信度 85（ボット 5）',
  ]);
});

test('the language follows LC_ALL, LC_MESSAGES, LANG; English unless Japanese', () => {
  assert.equal(languageOf({ LANG: 'ja_JP.UTF-8' }), 'ja');
  assert.equal(languageOf({ LC_ALL: 'C', LANG: 'ja_JP.UTF-8' }), 'en');
  assert.equal(languageOf({ LC_MESSAGES: 'ja_JP.UTF-8', LANG: 'en_US.UTF-8' }), 'ja');
  assert.equal(languageOf({}), 'en');
});

test('a JSON log line becomes one readable line: level word, message, then its fields', () => {
  const lines: string[] = [];
  const logger = createLogger(
    { level: 'warn' },
    humanLogStream((line) => lines.push(line), 'en'),
  );
  logger.info({ listen: ['x'] }, 'listening for flows');
  logger.warn(
    { listen: ['127.0.0.1:2055', '127.0.0.1:4739'], asked: 33554432, got: 4194304 },
    'receive buffer smaller than asked',
  );
  logger.error({ err: new Error('disk full') }, 'intel sighting failed');
  assert.deepEqual(lines, [
    'warning: receive buffer smaller than asked (listen ["127.0.0.1:2055","127.0.0.1:4739"], asked 33554432, got 4194304)',
    'error: intel sighting failed (err disk full)',
  ]);
  assert.equal(formatLogLine('not json\n', 'ja'), 'not json');
  assert.equal(formatLogLine('{"level":40,"msg":"x"}', 'ja'), '警告: x');
});
