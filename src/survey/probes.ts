/**
 * Protocol probes: telnet (with option refusal), SSH, HTTP(S) and TLS banners, and the
 * weak-credential checks. Every read is bounded in bytes and time; a login that succeeds is
 * dropped at once, before any command could be sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import type { Socket } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { Client as SshClient } from 'ssh2';
import type { Gate } from './gate.ts';
import type { Credential } from './plan.ts';

export interface ReadLimits {
  maxBytes: number;
  timeoutMs: number;
  /** Stop after this much silence once some data has arrived. */
  idleMs: number;
}

export type ReadEnd = 'matched' | 'limit' | 'timeout' | 'idle' | 'closed';

/**
 * Feeds socket data to `onData` until it returns true, the byte or time bound is hit, the line
 * goes idle, or the peer closes. Never waits longer than `timeoutMs` in total.
 */
export function readBounded(
  socket: Socket,
  limits: ReadLimits,
  onData: (chunk: Buffer) => boolean,
): Promise<ReadEnd> {
  return new Promise((resolve) => {
    let received = 0;
    let idleTimer: NodeJS.Timeout | undefined;
    const finish = (end: ReadEnd) => {
      clearTimeout(totalTimer);
      clearTimeout(idleTimer);
      socket.off('data', onChunk);
      socket.off('close', onClose);
      socket.pause();
      resolve(end);
    };
    const onChunk = (chunk: Buffer) => {
      const room = limits.maxBytes - received;
      const part = chunk.length > room ? chunk.subarray(0, room) : chunk;
      received += part.length;
      if (onData(part)) return finish('matched');
      if (received >= limits.maxBytes) return finish('limit');
      clearTimeout(idleTimer);
      idleTimer = setTimeout(() => finish('idle'), limits.idleMs);
    };
    const onClose = () => finish('closed');
    const totalTimer = setTimeout(() => finish('timeout'), limits.timeoutMs);
    socket.on('data', onChunk);
    socket.once('close', onClose);
    if (socket.destroyed) return finish('closed');
    socket.resume();
  });
}

// ---------------------------------------------------------------------------------------- telnet

const IAC = 255;
const DONT = 254;
const DO = 253;
const WONT = 252;
const WILL = 251;
const SB = 250;
const SE = 240;

/**
 * Telnet byte stream decoder. It refuses every option (DO -> WONT, WILL -> DONT), so the
 * server falls back to plain NVT, and counts negotiations so a loop cannot go on forever.
 */
export class TelnetStream {
  text = '';
  negotiations = 0;
  private state: 'data' | 'iac' | 'option' | 'sb' | 'sb-iac' = 'data';
  private command = 0;
  private readonly answered = new Set<number>();

  constructor(
    private readonly socket: Socket,
    private readonly maxNegotiations: number,
    private readonly maxText: number,
  ) {}

  get hostile(): boolean {
    return this.negotiations > this.maxNegotiations;
  }

  feed(chunk: Buffer): void {
    let start = -1;
    const flushText = (end: number) => {
      if (start >= 0 && this.text.length < this.maxText)
        this.text += chunk.toString('latin1', start, end).slice(0, this.maxText - this.text.length);
      start = -1;
    };
    for (let i = 0; i < chunk.length; i++) {
      const b = chunk[i]!;
      switch (this.state) {
        case 'data':
          if (b === IAC) {
            flushText(i);
            this.state = 'iac';
          } else if (start < 0) start = i;
          break;
        case 'iac':
          if (b === IAC) {
            if (this.text.length < this.maxText) this.text += '\xff';
            this.state = 'data';
          } else if (b === DO || b === DONT || b === WILL || b === WONT) {
            this.command = b;
            this.state = 'option';
          } else if (b === SB) this.state = 'sb';
          else this.state = 'data';
          break;
        case 'option':
          this.negotiations++;
          // Answer each (command, option) once: answering repeats is how negotiation loops start.
          if (
            (this.command === DO || this.command === WILL) &&
            !this.answered.has((this.command << 8) | b) &&
            !this.hostile
          ) {
            this.answered.add((this.command << 8) | b);
            if (!this.socket.destroyed)
              this.socket.write(Buffer.from([IAC, this.command === DO ? WONT : DONT, b]));
          }
          this.state = 'data';
          break;
        case 'sb':
          if (b === IAC) this.state = 'sb-iac';
          break;
        case 'sb-iac':
          this.state = b === SE ? 'data' : 'sb';
          break;
      }
    }
    flushText(chunk.length);
  }
}

const LOGIN_PROMPT = /(?:login|user ?name|user|account)\s*:\s*$/i;
const PASSWORD_PROMPT = /password\s*:\s*$/i;
const LOGIN_FAILED =
  /incorrect|fail|denied|invalid|error|bad password|wrong|(?:login|user ?name|password)\s*:\s*$/i;
const SHELL_PROMPT = /[#$>%]\s*$/;

/** Strips the CR/LF/NUL around a banner the way recog expects its telnet input. */
export function trimBanner(text: string): string {
  return text.replace(/\0/g, '').replace(/^[\r\n\s]+|[\r\n\s]+$/g, '');
}

export interface TelnetBanner {
  banner: string;
  negotiations: number;
  hostile: boolean;
}

export async function telnetBanner(
  socket: Socket,
  limits: ReadLimits,
  maxNegotiations: number,
): Promise<TelnetBanner> {
  const stream = new TelnetStream(socket, maxNegotiations, limits.maxBytes);
  await readBounded(socket, limits, (chunk) => {
    stream.feed(chunk);
    return stream.hostile || LOGIN_PROMPT.test(stream.text) || PASSWORD_PROMPT.test(stream.text);
  });
  socket.destroy();
  return { banner: trimBanner(stream.text), negotiations: stream.negotiations, hostile: stream.hostile };
}

export type LoginOutcome = 'accepted' | 'rejected' | 'error';

/** One telnet login attempt on a fresh connection; on success the socket is destroyed at once. */
export async function telnetLogin(
  socket: Socket,
  credential: Credential,
  limits: ReadLimits,
  maxNegotiations: number,
): Promise<LoginOutcome> {
  const stream = new TelnetStream(socket, maxNegotiations, limits.maxBytes);
  try {
    const waitFor = async (test: () => boolean) => {
      const end = await readBounded(socket, limits, (chunk) => {
        stream.feed(chunk);
        return stream.hostile || test();
      });
      return end === 'matched' && !stream.hostile;
    };
    if (!(await waitFor(() => LOGIN_PROMPT.test(stream.text) || PASSWORD_PROMPT.test(stream.text))))
      return 'error';
    if (!PASSWORD_PROMPT.test(stream.text)) {
      stream.text = '';
      socket.write(`${credential.username}\r\n`);
      if (!(await waitFor(() => PASSWORD_PROMPT.test(stream.text) || SHELL_PROMPT.test(stream.text))))
        return 'error';
      // A device that lets the user name in without a password is just as open.
      if (!PASSWORD_PROMPT.test(stream.text)) return LOGIN_FAILED.test(stream.text) ? 'rejected' : 'accepted';
    }
    stream.text = '';
    socket.write(`${credential.secret()}\r\n`);
    const seen = await waitFor(() => {
      const t = trimBanner(stream.text);
      return t !== '' && (LOGIN_FAILED.test(t) || SHELL_PROMPT.test(t));
    });
    const t = trimBanner(stream.text);
    if (!seen) return 'error';
    return LOGIN_FAILED.test(t) ? 'rejected' : 'accepted';
  } finally {
    socket.destroy();
  }
}

// ------------------------------------------------------------------------------------------- ssh

/** Reads the server identification line (RFC 4253 4.2), ignoring any lines before it. */
export async function sshBanner(socket: Socket, limits: ReadLimits): Promise<string | undefined> {
  let text = '';
  await readBounded(socket, limits, (chunk) => {
    text += chunk.toString('latin1');
    return /(?:^|\n)SSH-[^\r\n]*\r?\n/.test(text);
  });
  socket.destroy();
  const line = /(?:^|\n)(SSH-[^\r\n]{0,253})/.exec(text);
  return line?.[1];
}

/** One SSH password (and keyboard-interactive) attempt; the connection ends as soon as auth succeeds. */
export function sshLogin(socket: Socket, credential: Credential, timeoutMs: number): Promise<LoginOutcome> {
  return new Promise((resolve) => {
    const client = new SshClient();
    let settled = false;
    const finish = (outcome: LoginOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // end() sends a disconnect; destroy() makes sure no channel can be opened afterwards.
      client.end();
      socket.destroy();
      resolve(outcome);
    };
    const timer = setTimeout(() => finish('error'), timeoutMs);
    client.on('ready', () => finish('accepted'));
    client.on('error', (error: Error & { level?: string }) =>
      finish(error.level === 'client-authentication' ? 'rejected' : 'error'),
    );
    client.on('close', () => finish('error'));
    client.on('keyboard-interactive', (_name, _instructions, _lang, prompts, reply) => {
      reply(prompts.map(() => credential.secret()));
    });
    client.connect({
      sock: socket,
      username: credential.username,
      password: credential.secret(),
      tryKeyboard: true,
      readyTimeout: timeoutMs,
      hostVerifier: () => true,
    });
  });
}

// ------------------------------------------------------------------------------------------ http

export interface HttpResponse {
  status: number;
  headers: Map<string, string>;
  body: string;
  truncated: boolean;
}

/** Parses a raw HTTP/1.x response; undefined when the status line is not HTTP. */
export function parseHttpResponse(raw: Buffer, truncated: boolean): HttpResponse | undefined {
  const text = raw.toString('latin1');
  const headEnd = text.search(/\r?\n\r?\n/);
  const head = headEnd >= 0 ? text.slice(0, headEnd) : text;
  const lines = head.split(/\r?\n/);
  const status = /^HTTP\/\d(?:\.\d)? (\d{3})/.exec(lines[0] ?? '');
  if (!status) return undefined;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const name = line.slice(0, colon).trim().toLowerCase();
    const value = line.slice(colon + 1).trim();
    headers.set(name, headers.has(name) ? `${headers.get(name)}, ${value}` : value);
  }
  const bodyStart =
    headEnd >= 0 ? headEnd + (/^\r?\n\r?\n/.exec(text.slice(headEnd))?.[0].length ?? 0) : text.length;
  return { status: Number(status[1]), headers, body: text.slice(bodyStart), truncated };
}

export function htmlTitle(body: string): string | undefined {
  const m = /<title[^>]*>([\s\S]{0,512}?)<\/title>/i.exec(body);
  return m ? m[1]!.replace(/\s+/g, ' ').trim() : undefined;
}

/** Sends one GET and reads the reply within the limits. */
export async function httpGet(
  socket: Socket,
  host: string,
  path: string,
  headers: Record<string, string>,
  limits: ReadLimits,
): Promise<HttpResponse | undefined> {
  const lines = [
    `GET ${path} HTTP/1.1`,
    `Host: ${host.includes(':') ? `[${host}]` : host}`,
    'Connection: close',
    'Accept: */*',
  ];
  for (const [name, value] of Object.entries(headers)) lines.push(`${name}: ${value}`);
  socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  const chunks: Buffer[] = [];
  const end = await readBounded(socket, limits, (chunk) => {
    chunks.push(Buffer.from(chunk));
    return false;
  });
  socket.destroy();
  return parseHttpResponse(Buffer.concat(chunks), end === 'limit');
}

/** Splits `Digest realm="x", nonce="y", qop="auth"` into its parameters. */
export function parseAuthParams(header: string): { scheme: string; params: Record<string, string> } {
  const scheme = /^\s*(\S+)/.exec(header)?.[1]?.toLowerCase() ?? '';
  const params: Record<string, string> = {};
  const re = /([A-Za-z-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,]+))/g;
  for (let m = re.exec(header); m; m = re.exec(header)) params[m[1]!.toLowerCase()] = m[2] ?? m[3] ?? '';
  return { scheme, params };
}

const md5 = (text: string) => createHash('md5').update(text).digest('hex');

/** The Authorization header for one attempt (RFC 7617 Basic or RFC 7616 Digest with MD5). */
export function authorizationHeader(
  challenge: string,
  credential: Credential,
  method: string,
  uri: string,
): string | undefined {
  const { scheme, params } = parseAuthParams(challenge);
  if (scheme === 'basic')
    return `Basic ${Buffer.from(`${credential.username}:${credential.secret()}`, 'latin1').toString('base64')}`;
  if (scheme !== 'digest' || !params.nonce || !params.realm) return undefined;
  const algorithm = (params.algorithm ?? 'MD5').toUpperCase();
  if (algorithm !== 'MD5') return undefined;
  const ha1 = md5(`${credential.username}:${params.realm}:${credential.secret()}`);
  const ha2 = md5(`${method}:${uri}`);
  const qop = (params.qop ?? '')
    .split(',')
    .map((q) => q.trim())
    .includes('auth')
    ? 'auth'
    : '';
  const nc = '00000001';
  const cnonce = randomBytes(8).toString('hex');
  const response = qop
    ? md5(`${ha1}:${params.nonce}:${nc}:${cnonce}:${qop}:${ha2}`)
    : md5(`${ha1}:${params.nonce}:${ha2}`);
  const fields = [
    `username="${credential.username}"`,
    `realm="${params.realm}"`,
    `nonce="${params.nonce}"`,
    `uri="${uri}"`,
    `response="${response}"`,
    'algorithm=MD5',
  ];
  if (qop) fields.push(`qop=${qop}`, `nc=${nc}`, `cnonce="${cnonce}"`);
  if (params.opaque !== undefined) fields.push(`opaque="${params.opaque}"`);
  return `Digest ${fields.join(', ')}`;
}

// ------------------------------------------------------------------------------------------- tls

export interface CertificateNames {
  subject: string;
  issuer: string;
  altNames: string[];
}

function distinguishedName(fields: Record<string, string | string[]> | undefined): string {
  if (!fields) return '';
  const order = ['CN', 'serialNumber', 'OU', 'O', 'L', 'ST', 'C'];
  const parts: string[] = [];
  for (const key of order) {
    const value = fields[key];
    if (value === undefined) continue;
    for (const v of Array.isArray(value) ? value : [value])
      parts.push(`${key === 'serialNumber' ? 'SERIALNUMBER' : key}=${v.replace(/,/g, '\\,')}`);
  }
  return parts.join(',');
}

export function certificateNames(socket: TLSSocket): CertificateNames | undefined {
  const cert = socket.getPeerCertificate();
  if (!cert || Object.keys(cert).length === 0) return undefined;
  const altNames = (cert.subjectaltname ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean)
    .slice(0, 32);
  return {
    subject: distinguishedName(cert.subject as unknown as Record<string, string>),
    issuer: distinguishedName(cert.issuer as unknown as Record<string, string>),
    altNames,
  };
}

export type { Gate };
