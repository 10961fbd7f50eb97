/**
 * The sensor's state directory: its key and certificate, the centre's pinned CA and policy key,
 * the last verified policy and IoC list, the hash chain's head, the counters that must survive a
 * restart, the spool and the log of what was sent. Private files are written mode 0600, and
 * every file is replaced atomically (write, then rename) so a crash leaves the old or the new.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { GENESIS_HASH, type SignedDocument } from '../src/sensor/protocol.ts';

export interface Identity {
  sensorId: string;
  /** The centre's base URL, e.g. https://centre.example:8443. */
  center: string;
  enrolledAt: string;
}

export interface ChainHead {
  /** The last seq the centre accepted (0 before the first batch). */
  seq: number;
  /** That batch's hash (GENESIS_HASH before the first). */
  hash: string;
}

/** What must survive a restart so budgets and losses stay honest. */
export interface Counters {
  /** UTC day (YYYY-MM-DD) `sentBytesToday` counts. */
  day: string;
  sentBytesToday: number;
  droppedEvents: number;
}

export class SensorState {
  constructor(readonly dir: string) {}

  path(name: string): string {
    return join(this.dir, name);
  }

  ensureDir(): void {
    mkdirSync(this.dir, { recursive: true, mode: 0o700 });
  }

  exists(name: string): boolean {
    return existsSync(this.path(name));
  }

  readText(name: string): string {
    return readFileSync(this.path(name), 'utf8');
  }

  write(name: string, content: string | Buffer, mode = 0o644): void {
    const target = this.path(name);
    const temporary = `${target}.tmp`;
    writeFileSync(temporary, content, { mode });
    chmodSync(temporary, mode);
    renameSync(temporary, target);
  }

  remove(name: string): void {
    rmSync(this.path(name), { force: true });
  }

  readJson<T>(name: string): T | undefined {
    if (!this.exists(name)) return undefined;
    return JSON.parse(this.readText(name)) as T;
  }

  writeJson(name: string, value: unknown, mode = 0o644): void {
    this.write(name, `${JSON.stringify(value, null, 2)}\n`, mode);
  }

  get enrolled(): boolean {
    return this.exists('identity.json') && this.exists('key.pem') && this.exists('cert.pem');
  }

  identity(): Identity {
    const identity = this.readJson<Identity>('identity.json');
    if (!identity) throw new Error(`not enrolled: no identity.json in ${this.dir}`);
    return identity;
  }

  chain(): ChainHead {
    return this.readJson<ChainHead>('chain.json') ?? { seq: 0, hash: GENESIS_HASH };
  }

  setChain(head: ChainHead): void {
    this.writeJson('chain.json', head);
  }

  counters(today: string): Counters {
    const saved = this.readJson<Counters>('counters.json');
    if (!saved) return { day: today, sentBytesToday: 0, droppedEvents: 0 };
    return saved.day === today ? saved : { ...saved, day: today, sentBytesToday: 0 };
  }

  setCounters(counters: Counters): void {
    this.writeJson('counters.json', counters);
  }

  signedDocument(name: 'policy.json' | 'iocs.json'): SignedDocument | undefined {
    return this.readJson<SignedDocument>(name);
  }

  /** The key of the keyed hash of uids: made once, kept on the terminal, never sent. */
  userKey(): Buffer {
    if (!this.exists('user.key')) this.write('user.key', randomBytes(32).toString('hex'), 0o600);
    return Buffer.from(this.readText('user.key').trim(), 'hex');
  }
}

export function utcDay(ms = Date.now()): string {
  return new Date(ms).toISOString().slice(0, 10);
}
