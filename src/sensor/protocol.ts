/**
 * The sensor wire protocol: the one contract between the centre (this room) and the terminal
 * package `sensor/` at the repository root, which imports this file and nothing else of src/.
 * It therefore imports only zod and node:crypto, and holds schemas, types and pure helpers: the
 * invite token, the enrolment proof, canonical JSON and Ed25519-signed documents, the batch
 * format (gzip NDJSON) and its hash chain.
 */
import { createHash, createPublicKey, sign, verify, X509Certificate, type KeyObject } from 'node:crypto';
import { z } from 'zod';

export const PROTOCOL_VERSION = 1;

/** The centre's routes. Every one but `enroll` requires a client certificate the centre issued. */
export const SENSOR_PATHS = {
  enroll: '/sensor/v1/enroll',
  policy: '/sensor/v1/policy',
  iocs: '/sensor/v1/iocs',
  batches: '/sensor/v1/batches',
  renew: '/sensor/v1/renew',
} as const;

/** Size limits of a batch, compressed (as sent) and uncompressed (as inflated by the centre). */
export const MAX_BATCH_COMPRESSED_BYTES = 1024 * 1024;
export const MAX_BATCH_UNCOMPRESSED_BYTES = 8 * 1024 * 1024;
export const MAX_BATCH_EVENTS = 10_000;

/** The prevHash of a sensor's first batch (seq 1). */
export const GENESIS_HASH = '0'.repeat(64);

const hex64 = z.string().regex(/^[0-9a-f]{64}$/, 'expected 64 lowercase hex digits');
const base64 = z
  .string()
  .max(4096)
  .regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
const pem = z.string().min(1).max(16_384);
/** "1.2.3.4:443" or "[2001:db8::1]:443". */
const ipPort = z
  .string()
  .max(64)
  .regex(/^(?:\d{1,3}(?:\.\d{1,3}){3}|\[[0-9A-Fa-f:.]+\]):\d{1,5}$/, 'expected IP:PORT or [IPv6]:PORT');
const domain = z
  .string()
  .max(253)
  .regex(
    /^(?:[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.)*[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?\.?$/i,
    'expected a domain name',
  );

// ---------------------------------------------------------------------------------------------
// Invite token: tsi1.<tokenId>.<secret>.<caSha256hex>

export const INVITE_TOKEN_PREFIX = 'tsi1';

export interface InviteToken {
  tokenId: string;
  secret: string;
  /** SHA-256 (hex) of the centre CA certificate's DER: the terminal pins it before trusting anything. */
  caSha256: string;
}

/** The token is not of the form tsi1.<tokenId>.<secret>.<caSha256hex>. */
export class InviteTokenError extends Error {}

export function formatInviteToken(token: InviteToken): string {
  return [INVITE_TOKEN_PREFIX, token.tokenId, token.secret, token.caSha256].join('.');
}

export function parseInviteToken(text: string): InviteToken {
  const parts = text.trim().split('.');
  const [prefix, tokenId, secret, caSha256] = parts;
  if (
    parts.length !== 4 ||
    prefix !== INVITE_TOKEN_PREFIX ||
    !/^[A-Za-z0-9_-]{8,64}$/.test(tokenId ?? '') ||
    !/^[A-Za-z0-9_-]{16,128}$/.test(secret ?? '') ||
    !/^[0-9a-f]{64}$/.test(caSha256 ?? '')
  ) {
    throw new InviteTokenError('invite token must be tsi1.<tokenId>.<secret>.<caSha256hex>');
  }
  return { tokenId: tokenId!, secret: secret!, caSha256: caSha256! };
}

// ---------------------------------------------------------------------------------------------
// Keys, identities and fingerprints

function sha256Hex(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}

/** SHA-256 (hex) of a certificate's DER: the CA fingerprint carried in the invite token. */
export function certificateSha256(certificatePem: string): string {
  return sha256Hex(new X509Certificate(certificatePem).raw);
}

/** A sensor's identity: SHA-256 (hex) of its public key's SPKI DER. */
export function sensorIdOf(publicKey: string | KeyObject): string {
  const key = typeof publicKey === 'string' ? createPublicKey(publicKey) : publicKey;
  return sha256Hex(key.export({ type: 'spki', format: 'der' }));
}

/** The bytes the enrolment proof signs: UTF-8 of token + "\n" + publicKeySpkiPem. */
export function proofMessage(token: string, publicKeySpkiPem: string): Buffer {
  return Buffer.from(`${token}\n${publicKeySpkiPem}`, 'utf8');
}

/** The proof of possession: base64 ECDSA-SHA256 (DER-encoded signature, node's default) by the terminal's P-256 key. */
export function signProof(token: string, publicKeySpkiPem: string, privateKey: string | KeyObject): string {
  return sign('sha256', proofMessage(token, publicKeySpkiPem), privateKey).toString('base64');
}

/** True when the key is ECDSA P-256 and `proof` is its signature over the proof message. */
export function verifyProof(token: string, publicKeySpkiPem: string, proof: string): boolean {
  try {
    const key = createPublicKey(publicKeySpkiPem);
    if (key.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') return false;
    return verify('sha256', proofMessage(token, publicKeySpkiPem), key, Buffer.from(proof, 'base64'));
  } catch {
    return false;
  }
}

// ---------------------------------------------------------------------------------------------
// Canonical JSON and signed documents

/** Not representable in canonical JSON (a non-finite number, a bigint, a function...). */
export class CanonicalJsonError extends Error {}

/** JSON with object keys sorted (by UTF-16 code units) at every depth and no whitespace. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CanonicalJsonError('non-finite number');
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map((item) => canonicalJson(item ?? null)).join(',')}]`;
  if (typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, item]) => item !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([key, item]) => `${JSON.stringify(key)}:${canonicalJson(item)}`).join(',')}}`;
  }
  throw new CanonicalJsonError(`cannot encode a ${typeof value}`);
}

export const SignedDocument = z
  .object({
    /** Canonical JSON text of the document's body. */
    body: z.string().max(4 * 1024 * 1024),
    /** base64 Ed25519 signature over the UTF-8 bytes of `body`. */
    signature: base64,
    /** SHA-256 (hex) of the signing key's SPKI DER. */
    keyId: hex64,
  })
  .strict();
export type SignedDocument = z.infer<typeof SignedDocument>;

/** Signs `body` with the centre's Ed25519 policy key. */
export function signDocument(body: unknown, privateKey: KeyObject): SignedDocument {
  const text = canonicalJson(body);
  const publicKey = createPublicKey(privateKey);
  return {
    body: text,
    signature: sign(null, Buffer.from(text, 'utf8'), privateKey).toString('base64'),
    keyId: sensorIdOf(publicKey),
  };
}

/** A signed document whose signature, key, canonical form or body does not hold. */
export class SignedDocumentError extends Error {}

/**
 * The document's body, checked: the signature is the pinned Ed25519 key's, the body is in
 * canonical form, and it matches `schema`. Anything else throws SignedDocumentError.
 */
export function verifyDocument<T extends z.ZodType>(
  document: unknown,
  publicKeyPem: string | KeyObject,
  schema: T,
): z.infer<T> {
  const parsed = SignedDocument.safeParse(document);
  if (!parsed.success) throw new SignedDocumentError('not a signed document');
  const { body, signature, keyId } = parsed.data;
  const key = typeof publicKeyPem === 'string' ? createPublicKey(publicKeyPem) : publicKeyPem;
  if (key.asymmetricKeyType !== 'ed25519') throw new SignedDocumentError('the pinned key is not Ed25519');
  if (keyId !== sensorIdOf(key)) throw new SignedDocumentError('signed by another key');
  if (!verify(null, Buffer.from(body, 'utf8'), key, Buffer.from(signature, 'base64'))) {
    throw new SignedDocumentError('bad signature');
  }
  let value: unknown;
  try {
    value = JSON.parse(body);
  } catch {
    throw new SignedDocumentError('body is not JSON');
  }
  if (canonicalJson(value) !== body) throw new SignedDocumentError('body is not canonical JSON');
  const checked = schema.safeParse(value);
  if (!checked.success) throw new SignedDocumentError('body does not match its schema');
  return checked.data;
}

// ---------------------------------------------------------------------------------------------
// Policy and IoC list (bodies of signed documents)

export const PROCESS_FIELDS = ['pid', 'ppid', 'exe', 'sha256', 'user', 'startedAt'] as const;
export const SOCKET_FIELDS = ['pid', 'proto', 'local', 'remote', 'state'] as const;

export const PolicyBody = z
  .object({
    version: z.number().int().min(1),
    /** Field allow-lists: a field not named here is not sent. */
    fields: z
      .object({ process: z.array(z.enum(PROCESS_FIELDS)), socket: z.array(z.enum(SOCKET_FIELDS)) })
      .strict(),
    commandLines: z.boolean(),
    hashExecutables: z.boolean(),
    fileContents: z.boolean(),
    scanIntervalMs: z.number().int().min(1000).max(3_600_000),
    batchMaxEvents: z.number().int().min(1).max(MAX_BATCH_EVENTS),
    budgets: z
      .object({
        cpuPercent: z.number().positive().max(100),
        rssMb: z.number().positive().max(4096),
        hashMbPerS: z.number().positive().max(1024),
        netBytesPerDay: z.number().int().positive(),
      })
      .strict(),
  })
  .strict();
export type PolicyBody = z.infer<typeof PolicyBody>;

/** An IPv4 address, or an IPv6 one in RFC 5952 form (the centre writes them canonical). */
const ipAddress = z
  .string()
  .max(45)
  .regex(/^(?:\d{1,3}(?:\.\d{1,3}){3}|[0-9a-f:.]*:[0-9a-f:.]*)$/, 'expected an IP address');

/**
 * A listed domain as the centre's own resolver answered it. The terminal never looks an
 * attacker's name up itself (that would warn the attacker and leak the list); it matches its
 * connections against these addresses and reports the domain.
 */
export const ResolvedDomain = z
  .object({
    domain,
    addresses: z.array(ipAddress).min(1).max(64),
    /** When the centre's resolver gave these addresses (ms since the Unix epoch). */
    resolvedAt: z.number().int().min(0),
  })
  .strict();
export type ResolvedDomain = z.infer<typeof ResolvedDomain>;

export const IocListBody = z
  .object({
    version: z.number().int().min(1),
    sha256: z.array(hex64).max(1_000_000),
    ipPorts: z.array(ipPort).max(1_000_000),
    domains: z.array(domain).max(1_000_000),
    /** The domains' addresses, resolved by the centre (absent in lists of older centres). */
    resolved: z.array(ResolvedDomain).max(1_000_000).default([]),
  })
  .strict();
export type IocListBody = z.infer<typeof IocListBody>;

// ---------------------------------------------------------------------------------------------
// Enrolment

export const EnrollRequest = z
  .object({
    token: z.string().min(1).max(512),
    publicKeySpkiPem: pem,
    /** base64 ECDSA-SHA256 (DER) over proofMessage(token, publicKeySpkiPem). */
    proof: base64,
    /** sha256 hex of the sensor bundle, or `source:<sha256 hex of the sources>` for a dev run. */
    bundleDigest: z
      .string()
      .regex(/^(?:source:)?[0-9a-f]{64}$/, 'expected sha256 hex or source:<sha256 hex>'),
    hostname: z.string().min(1).max(253),
    platform: z.string().min(1).max(64),
  })
  .strict();
export type EnrollRequest = z.infer<typeof EnrollRequest>;

export const EnrollResponse = z
  .object({
    sensorId: hex64,
    certificatePem: pem,
    caPem: pem,
    policyPublicKeyPem: pem,
    policy: SignedDocument,
  })
  .strict();
export type EnrollResponse = z.infer<typeof EnrollResponse>;

/**
 * The answer to a renewal (POST `renew` over mutual TLS with the certificate in force, body `{}`):
 * a new certificate for the same key, since the sensor's identity is the hash of its key. From
 * then on the centre accepts only the new one (the previous one only to ask for it again, when
 * this answer was lost).
 */
export const RenewResponse = z.object({ sensorId: hex64, certificatePem: pem }).strict();
export type RenewResponse = z.infer<typeof RenewResponse>;

/** Any refusal: 400 bad body, 401 no/bad client certificate or token, 403 refused, 409 chain, 413 size, 429 rate. */
export const ErrorBody = z.object({ error: z.string() }).passthrough();
export type ErrorBody = z.infer<typeof ErrorBody>;

// ---------------------------------------------------------------------------------------------
// Events

/** Every event carries `at`: when the sensor saw it (ms since the Unix epoch). */
const at = z.number().int().min(0);
const pid = z
  .number()
  .int()
  .min(0)
  .max(2 ** 31);
const proto = z.enum(['tcp', 'udp', 'tcp6', 'udp6']);

export const ProcessStartEvent = z
  .object({
    type: z.literal('process.start'),
    at,
    pid,
    ppid: pid.optional(),
    exe: z.string().max(4096).optional(),
    sha256: hex64.optional(),
    /** Keyed HMAC (hex) of the uid; the key stays on the terminal. */
    user: z.string().max(128).optional(),
    /** ms since the Unix epoch. */
    startedAt: z.number().int().min(0).optional(),
  })
  .strict();

export const ProcessEndEvent = z.object({ type: z.literal('process.end'), at, pid }).strict();

const socketFields = {
  at,
  pid: pid.nullable().optional(),
  proto,
  local: ipPort,
  remote: ipPort,
  state: z.string().max(32).optional(),
};
export const SocketOpenEvent = z.object({ type: z.literal('socket.open'), ...socketFields }).strict();
export const SocketCloseEvent = z.object({ type: z.literal('socket.close'), ...socketFields }).strict();

export const IocMatchEvent = z
  .object({
    type: z.literal('ioc.match'),
    at,
    ioc: z.string().min(1).max(512),
    kind: z.enum(['sha256', 'ip-port', 'domain']),
    pid: pid.nullable().optional(),
    exe: z.string().max(4096).optional(),
  })
  .strict();

const gauge = z.number().min(0).max(1e15);
export const SensorStatusEvent = z
  .object({
    type: z.literal('sensor.status'),
    at,
    cpuPercent: gauge,
    rssMb: gauge,
    hashedBytes: gauge,
    sentBytesToday: gauge,
    spoolBytes: gauge,
    droppedEvents: gauge,
  })
  .strict();

/** Strict objects: a field the protocol does not know (a command line, say) fails validation. */
export const SensorEvent = z.discriminatedUnion('type', [
  ProcessStartEvent,
  ProcessEndEvent,
  SocketOpenEvent,
  SocketCloseEvent,
  IocMatchEvent,
  SensorStatusEvent,
]);
export type SensorEvent = z.infer<typeof SensorEvent>;
export type SensorEventType = SensorEvent['type'];

// ---------------------------------------------------------------------------------------------
// Batches: gzip NDJSON, header line then `count` event lines, chained by hash

export const BatchHeader = z
  .object({
    sensorId: hex64,
    seq: z.number().int().min(1),
    prevHash: hex64,
    count: z.number().int().min(0).max(MAX_BATCH_EVENTS),
    policyVersion: z.number().int().min(0),
  })
  .strict();
export type BatchHeader = z.infer<typeof BatchHeader>;

export const BatchAck = z.object({ acceptedSeq: z.number().int().min(1), hash: hex64 }).strict();
export type BatchAck = z.infer<typeof BatchAck>;

/** The 409 answer to a gap, a replay or a prevHash that is not the centre's last stored hash. */
export const BatchConflict = z
  .object({ error: z.literal('sequence'), expectedSeq: z.number().int().min(1), expectedPrevHash: hex64 })
  .strict();
export type BatchConflict = z.infer<typeof BatchConflict>;

/** The uncompressed body: one JSON line per record, each ending in "\n". */
export function encodeBatchBody(header: BatchHeader, events: readonly SensorEvent[]): Buffer {
  const lines = [JSON.stringify(header), ...events.map((event) => JSON.stringify(event))];
  return Buffer.from(`${lines.join('\n')}\n`, 'utf8');
}

/** The batch's hash: sha256 hex of (prevHash + "\n" + the uncompressed body bytes). */
export function batchHash(prevHash: string, body: Uint8Array): string {
  return createHash('sha256').update(`${prevHash}\n`, 'utf8').update(body).digest('hex');
}

export type BatchFormatReason = 'header' | 'event' | 'count';

/** The uncompressed body is not a header line and `count` valid event lines. */
export class BatchFormatError extends Error {
  constructor(
    readonly reason: BatchFormatReason,
    message: string,
  ) {
    super(message);
  }
}

function parseLine<T extends z.ZodType>(line: string, schema: T): z.infer<T> | undefined {
  let value: unknown;
  try {
    value = JSON.parse(line);
  } catch {
    return undefined;
  }
  const parsed = schema.safeParse(value);
  return parsed.success ? parsed.data : undefined;
}

/** Parses and validates an uncompressed batch body, line by line; throws only BatchFormatError. */
export function parseBatchBody(body: Uint8Array): { header: BatchHeader; events: SensorEvent[] } {
  const lines = Buffer.from(body.buffer, body.byteOffset, body.byteLength).toString('utf8').split('\n');
  if (lines.at(-1) === '') lines.pop();
  const header = parseLine(lines[0] ?? '', BatchHeader);
  if (!header) throw new BatchFormatError('header', 'line 1 is not a batch header');
  if (lines.length - 1 !== header.count) {
    throw new BatchFormatError('count', `header says ${header.count} events, body has ${lines.length - 1}`);
  }
  const events: SensorEvent[] = [];
  for (let i = 1; i < lines.length; i++) {
    const event = parseLine(lines[i]!, SensorEvent);
    if (!event) throw new BatchFormatError('event', `line ${i + 1} is not a valid event`);
    events.push(event);
  }
  return { header, events };
}
