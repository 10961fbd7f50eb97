/**
 * What a person at a terminal sees while `start` runs: one readable line per event that matters
 * (a C&C server published, re-announced or withdrawn; a warning or error), in their language,
 * instead of pino's JSON. Machines keep the JSON: with `--log-format json` (the default when
 * stderr is not a terminal) the logger writes its lines unchanged and the reporter is silent.
 */
import { Writable } from 'node:stream';
import { protocolName } from '../core/index.ts';
import type { WithdrawReason } from '../detect/index.ts';

export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export type Language = 'en' | 'ja';

/** The user's language from the locale variables (POSIX precedence); English unless Japanese. */
export function languageOf(env: NodeJS.ProcessEnv): Language {
  const locale = env.LC_ALL || env.LC_MESSAGES || env.LANG || '';
  return locale.toLowerCase().startsWith('ja') ? 'ja' : 'en';
}

export interface ReportedCandidate {
  ip: string;
  port: number;
  proto: number | string;
  confidence: number;
  family: string;
  evidence?: { bots?: number };
}

export interface Reporter {
  published(candidate: ReportedCandidate, kind: 'new' | 'changed'): void;
  withdrawn(candidate: ReportedCandidate, reason: WithdrawReason): void;
}

/** Reports nothing: machines read the JSON log. */
export const silentReporter: Reporter = { published() {}, withdrawn() {} };

const WITHDRAW_REASONS: Record<Language, Record<WithdrawReason, string>> = {
  en: {
    expired: 'no bot contact within the expiry',
    evicted: 'evicted at the memory ceiling',
    'below-threshold': 'confidence fell below the threshold',
    'port-moved': 'moved to another port',
  },
  ja: {
    expired: '有効期間内にボットからの接続なし',
    evicted: 'メモリ上限により破棄',
    'below-threshold': '確信度がしきい値を下回った',
    'port-moved': '別のポートへ移動',
  },
};

const WORDS = {
  en: {
    updated: 'C&C updated',
    withdrawn: 'C&C withdrawn',
    confidence: 'confidence',
    bots: (n: number) => ` (bots ${n})`,
    warn: 'warning',
    error: 'error',
    fatal: 'fatal',
  },
  ja: {
    updated: 'C&C 更新',
    withdrawn: 'C&C 取り下げ',
    confidence: '確信度',
    bots: (n: number) => `（ボット ${n}）`,
    warn: '警告',
    error: 'エラー',
    fatal: '致命的エラー',
  },
} as const;

/** `1.2.3.4:443/tcp`, `[2001:db8::1]:443/udp`. */
function endpoint(candidate: ReportedCandidate): string {
  const host = candidate.ip.includes(':') ? `[${candidate.ip}]` : candidate.ip;
  return `${host}:${candidate.port}/${protocolName(candidate.proto)}`;
}

/**
 * Human lines written by `say` (which clears a redrawn status line first): e.g.
 * `C&C 1.2.3.4:443/tcp family-a confidence 85 (bots 5)`.
 */
export function createReporter(say: (line: string) => void, language: Language): Reporter {
  const words = WORDS[language];
  return {
    published(candidate, kind) {
      const bots = candidate.evidence?.bots;
      say(
        `${kind === 'new' ? 'C&C' : words.updated} ${endpoint(candidate)}` +
          `${candidate.family ? ` ${candidate.family}` : ''} ${words.confidence} ${candidate.confidence}` +
          (bots ? words.bots(bots) : ''),
      );
    },
    withdrawn(candidate, reason) {
      say(`${words.withdrawn} ${endpoint(candidate)}: ${WITHDRAW_REASONS[language][reason]}`);
    },
  };
}

const LEVEL_NAMES: Record<number, 'warn' | 'error' | 'fatal'> = { 40: 'warn', 50: 'error', 60: 'fatal' };
/** pino's own fields, never shown again after the message. */
const PINO_FIELDS = new Set(['level', 'time', 'pid', 'hostname', 'app', 'msg']);

function fieldText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value && typeof value === 'object' && 'message' in value) return String(value.message);
  return JSON.stringify(value);
}

/**
 * One pino JSON line as one readable line: `warning: <message> (key value, ...)`. Lines below
 * warn (debug/info, when a --log-level asks for them) keep no level word. Not JSON: as is.
 */
export function formatLogLine(line: string, language: Language): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line.trimEnd();
  }
  const level = LEVEL_NAMES[Number(entry.level)];
  const fields = Object.entries(entry)
    .filter(([key]) => !PINO_FIELDS.has(key))
    .map(([key, value]) => `${key} ${fieldText(value)}`);
  return (
    `${level ? `${WORDS[language][level]}: ` : ''}${String(entry.msg ?? '')}` +
    (fields.length ? ` (${fields.join(', ')})` : '')
  );
}

/** A destination for the logger that writes each JSON line through `say` as a readable one. */
export function humanLogStream(say: (line: string) => void, language: Language): Writable {
  let pending = '';
  return new Writable({
    decodeStrings: false,
    write(chunk: string | Buffer, _encoding, done) {
      pending += chunk.toString();
      let end: number;
      while ((end = pending.indexOf('\n')) >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 1);
        if (line.trim()) say(formatLogLine(line, language));
      }
      done();
    },
  });
}
