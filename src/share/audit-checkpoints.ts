/**
 * Signed checkpoints of the audit chain. A hash chain alone can be rewritten consistently (change
 * a record, recompute every later hash) or cut at the end; a checkpoint is an ed25519 signature,
 * by a key kept in the data directory, over "the chain had N records ending in hash H at time T".
 * The hub writes one every N records and at shutdown; exported copies kept by the council let
 * `audit verify --checkpoints FILE` catch a rewrite even by someone holding the database.
 */
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InputError } from '../core/index.ts';

export interface Checkpoint {
  /** The chain had this many records (the last one's seq). */
  seq: number;
  /** The hash of record `seq`. */
  head: string;
  at: string;
  /** The signer's ed25519 public key: raw 32 bytes, base64url. */
  key: string;
  /** base64url ed25519 signature over checkpointMessage(). */
  signature: string;
}

export const CHECKPOINT_FILE_FORMAT = 'tsunagi-audit-checkpoints/1';
/** The signing key's file name inside the data directory (PKCS#8 PEM, mode 0600). */
export const SIGNING_KEY_FILE = 'audit-signing-key.pem';

export function checkpointMessage(seq: number, head: string, at: string): Buffer {
  return Buffer.from(`${CHECKPOINT_FILE_FORMAT}\n${seq}\n${head}\n${at}`);
}

export interface AuditSigner {
  /** The public key as checkpoints name it (raw 32 bytes, base64url). */
  readonly key: string;
  sign(seq: number, head: string, at: string): Checkpoint;
}

function rawPublicKey(key: KeyObject): string {
  // The SPKI DER of an ed25519 key ends with the 32 raw key bytes.
  const der = createPublicKey(key).export({ type: 'spki', format: 'der' });
  return der.subarray(der.length - 32).toString('base64url');
}

const SPKI_ED25519_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function publicKeyOf(raw: string): KeyObject | undefined {
  const bytes = Buffer.from(raw, 'base64url');
  if (bytes.length !== 32) return undefined;
  return createPublicKey({ key: Buffer.concat([SPKI_ED25519_PREFIX, bytes]), format: 'der', type: 'spki' });
}

export function signerOf(privateKey: KeyObject): AuditSigner {
  const key = rawPublicKey(privateKey);
  return {
    key,
    sign(seq, head, at) {
      const signature = sign(null, checkpointMessage(seq, head, at), privateKey).toString('base64url');
      return { seq, head, at, key, signature };
    },
  };
}

/** A key held only in memory: for in-memory stores and tests, where nothing outlives the process. */
export function ephemeralSigner(): AuditSigner {
  return signerOf(generateKeyPairSync('ed25519').privateKey);
}

/**
 * The data directory's signing key, made (mode 0600) on first use. Every replica of a hub that
 * shares one PostgreSQL database should be given the same key file.
 */
export function loadSigner(dataDir: string): AuditSigner {
  const file = join(dataDir, SIGNING_KEY_FILE);
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    const pem = privateKey.export({ type: 'pkcs8', format: 'pem' });
    // 'wx': never overwrite a key another process made in the meantime.
    try {
      writeFileSync(file, pem, { mode: 0o600, flag: 'wx' });
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
  }
  chmodSync(file, 0o600);
  try {
    return signerOf(createPrivateKey(readFileSync(file)));
  } catch (error) {
    throw new InputError(`cannot read the audit signing key ${file}: ${(error as Error).message}`);
  }
}

/** Whether the checkpoint's signature is good under the key it names. */
export function signatureHolds(c: Checkpoint): boolean {
  try {
    const key = publicKeyOf(c.key);
    return (
      key !== undefined &&
      verify(null, checkpointMessage(c.seq, c.head, c.at), key, Buffer.from(c.signature, 'base64url'))
    );
  } catch {
    return false;
  }
}

export function checkpointFile(checkpoints: readonly Checkpoint[]): string {
  return `${JSON.stringify({ format: CHECKPOINT_FILE_FORMAT, checkpoints }, null, 1)}\n`;
}

function isCheckpoint(x: unknown): x is Checkpoint {
  const c = x as Checkpoint;
  return (
    typeof c === 'object' &&
    c !== null &&
    Number.isSafeInteger(c.seq) &&
    c.seq > 0 &&
    typeof c.head === 'string' &&
    typeof c.at === 'string' &&
    typeof c.key === 'string' &&
    typeof c.signature === 'string'
  );
}

/** Reads an exported checkpoint file; InputError (exit 2) when it is not one. */
export function parseCheckpointFile(text: string, name = 'checkpoint file'): Checkpoint[] {
  let parsed: { format?: unknown; checkpoints?: unknown };
  try {
    parsed = JSON.parse(text) as typeof parsed;
  } catch (error) {
    throw new InputError(`${name} is not JSON: ${(error as Error).message}`);
  }
  if (parsed?.format !== CHECKPOINT_FILE_FORMAT || !Array.isArray(parsed.checkpoints))
    throw new InputError(`${name} is not a ${CHECKPOINT_FILE_FORMAT} file`);
  const out: Checkpoint[] = [];
  for (const [i, c] of parsed.checkpoints.entries()) {
    if (!isCheckpoint(c)) throw new InputError(`${name}: checkpoint ${i + 1} is malformed`);
    out.push({ seq: c.seq, head: c.head, at: c.at, key: c.key, signature: c.signature });
  }
  return out;
}
