/**
 * Emulated IoT devices for tests and the benchmark, bound to 127.0.0.0/8 addresses: busybox
 * telnetd with a fake login (never a real shell), busybox httpd with Basic auth, a Digest-auth
 * web server, an ssh2 server, and hostile services. Each records what it received.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import { connect, createServer as createNetServer, type Server as NetServer, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ssh2 from 'ssh2';

export interface Device {
  readonly host: string;
  readonly port: number;
  /** What the device saw, one event per line (never a password). */
  records(): string[];
  stop(): Promise<void>;
}

export function busyboxPath(): string | undefined {
  for (const p of ['/bin/busybox', '/usr/bin/busybox']) if (existsSync(p)) return p;
  const found = spawnSync('sh', ['-c', 'command -v busybox'], { encoding: 'utf8' }).stdout.trim();
  return found || undefined;
}

/** Resolves once something accepts TCP connections on host:port (or rejects after `timeoutMs`). */
export async function waitForPort(host: string, port: number, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const ok = await new Promise<boolean>((resolve) => {
      const s: Socket = connect({ host, port });
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** True when a socket listens on IPv4 host:port, read from /proc/net/tcp so no connection is made. */
function listening(host: string, port: number): boolean {
  const hex = (n: number, width: number) => n.toString(16).toUpperCase().padStart(width, '0');
  const o = host.split('.').map(Number);
  const local = `${hex(((o[3]! << 24) | (o[2]! << 16) | (o[1]! << 8) | o[0]!) >>> 0, 8)}:${hex(port, 4)}`;
  const table = readFileSync('/proc/net/tcp', 'utf8');
  return table.split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1] === local && f[3] === '0A';
  });
}

/** Waits for a listener without connecting (a connect would run the device's login script). */
async function waitForListen(host: string, port: number, timeoutMs = 5000): Promise<void> {
  if (!existsSync('/proc/net/tcp')) return waitForPort(host, port, timeoutMs);
  const deadline = Date.now() + timeoutMs;
  while (!listening(host, port)) {
    if (Date.now() > deadline) throw new Error(`nothing listens on ${host}:${port}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
  });
}

function requireBusybox(): string {
  const busybox = busyboxPath();
  if (!busybox) throw new Error('busybox is not installed (apt-get install -y busybox-static)');
  return busybox;
}

/**
 * A device that is a child process (busybox telnetd or httpd) working in `dir`: once `ready`
 * resolves it is returned, and stop() ends the child and removes `dir`; if `ready` fails, the
 * child is ended before the error is passed on.
 */
async function childDevice(
  options: { host: string; port: number },
  child: ChildProcess,
  dir: string,
  ready: Promise<void>,
  records: () => string[],
): Promise<Device> {
  try {
    await ready;
  } catch (error) {
    await stopChild(child);
    throw error;
  }
  return {
    host: options.host,
    port: options.port,
    records,
    async stop() {
      await stopChild(child);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Listens on host:port (an error such as EADDRINUSE rejects). */
function listenOn(server: NetServer, host: string, port: number): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

const shellQuote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

export interface TelnetDeviceOptions {
  host: string;
  port: number;
  /** Text before the login prompt, e.g. `MikroTik v6.40.8 (bugfix)`. */
  banner: string;
  loginPrompt?: string;
  username: string;
  password: string;
  shellPrompt?: string;
}

/**
 * busybox telnetd whose login program is a script: it prints the banner, asks for user and
 * password, and after a good login only records lines it receives (CMD ...), running nothing.
 */
export async function startTelnetDevice(options: TelnetDeviceOptions): Promise<Device> {
  const busybox = requireBusybox();
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-telnet-'));
  const record = join(dir, 'record.log');
  writeFileSync(record, '');
  const script = join(dir, 'login.sh');
  const prompt = options.shellPrompt ?? '# ';
  writeFileSync(
    script,
    [
      '#!/bin/sh',
      `REC=${shellQuote(record)}`,
      'echo CONNECT >> "$REC"',
      `printf '%s\\n%s' ${shellQuote(options.banner)} ${shellQuote(options.loginPrompt ?? 'Login: ')}`,
      'read -r user || exit 0',
      'stty -echo 2>/dev/null',
      "printf 'Password: '",
      'read -r pass || exit 0',
      'stty echo 2>/dev/null',
      "printf '\\n'",
      `if [ "$user" = ${shellQuote(options.username)} ] && [ "$pass" = ${shellQuote(options.password)} ]; then`,
      '  echo "LOGIN_OK $user" >> "$REC"',
      `  printf '%s' ${shellQuote(prompt)}`,
      `  while read -r line; do echo "CMD $line" >> "$REC"; printf '%s' ${shellQuote(prompt)}; done`,
      '  echo "DISCONNECT" >> "$REC"',
      'else',
      '  echo "LOGIN_FAIL $user" >> "$REC"',
      "  printf 'Login incorrect\\n'",
      '  sleep 1',
      'fi',
      '',
    ].join('\n'),
  );
  chmodSync(script, 0o755);
  const issue = join(dir, 'issue');
  writeFileSync(issue, '');
  const child = spawn(
    busybox,
    ['telnetd', '-F', '-K', '-b', `${options.host}:${options.port}`, '-l', script, '-f', issue],
    { stdio: 'ignore' },
  );
  return childDevice(options, child, dir, waitForListen(options.host, options.port), () =>
    readFileSync(record, 'utf8').split('\n').filter(Boolean),
  );
}

export interface HttpDeviceOptions {
  host: string;
  port: number;
  realm: string;
  username: string;
  password: string;
  title?: string;
}

/** busybox httpd protecting `/` with Basic auth under a device realm; -vv logs each request. */
export async function startHttpDevice(options: HttpDeviceOptions): Promise<Device> {
  const busybox = requireBusybox();
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-httpd-'));
  const home = join(dir, 'www');
  spawnSync('mkdir', ['-p', home]);
  writeFileSync(
    join(home, 'index.html'),
    `<html><head><title>${options.title ?? 'Device'}</title></head><body>ok</body></html>\n`,
  );
  writeFileSync(join(dir, 'httpd.conf'), `/:${options.username}:${options.password}\n`);
  const log: string[] = [];
  const child = spawn(
    busybox,
    [
      'httpd',
      '-f',
      '-vv',
      '-p',
      `${options.host}:${options.port}`,
      '-h',
      home,
      '-c',
      join(dir, 'httpd.conf'),
      '-r',
      options.realm,
    ],
    {
      stdio: ['ignore', 'ignore', 'pipe'],
    },
  );
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (text: string) => {
    for (const line of text.split('\n')) if (line.trim() && log.length < 10000) log.push(line.trim());
  });
  return childDevice(options, child, dir, waitForPort(options.host, options.port), () => [...log]);
}

const md5 = (s: string) => createHash('md5').update(s).digest('hex');

/** A web UI behind RFC 7616 Digest auth (MD5, qop=auth), as many DVRs and cameras use. */
export async function startDigestDevice(options: HttpDeviceOptions & { server?: string }): Promise<Device> {
  const log: string[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const params: Record<string, string> = {};
    for (const m of auth.matchAll(/(\w+)=(?:"([^"]*)"|([^\s,]+))/g)) params[m[1]!] = m[2] ?? m[3] ?? '';
    const ha1 = md5(`${options.username}:${options.realm}:${options.password}`);
    const ha2 = md5(`${req.method}:${params.uri ?? ''}`);
    const expected = md5(`${ha1}:${params.nonce}:${params.nc}:${params.cnonce}:${params.qop}:${ha2}`);
    const ok =
      auth.startsWith('Digest ') && params.username === options.username && params.response === expected;
    log.push(`${req.method} ${req.url} ${auth ? (ok ? 'AUTH_OK' : 'AUTH_FAIL') : 'NO_AUTH'}`);
    const headers: Record<string, string> = options.server ? { server: options.server } : {};
    if (!ok) {
      res.writeHead(401, {
        ...headers,
        'www-authenticate': `Digest realm="${options.realm}", qop="auth", nonce="${randomBytes(8).toString('hex')}", opaque="x1"`,
      });
      res.end('<html><head><title>401 Unauthorized</title></head></html>');
      return;
    }
    res.writeHead(200, { ...headers, 'content-type': 'text/html' });
    res.end(`<html><head><title>${options.title ?? 'Device'}</title></head></html>`);
  });
  await listenOn(server, options.host, options.port);
  return {
    host: options.host,
    port: options.port,
    records: () => [...log],
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

/**
 * An HTTPS device UI: a self-signed certificate with a device subject (made with the openssl
 * CLI) and Basic auth under `realm`.
 */
export async function startTlsDevice(options: HttpDeviceOptions & { subject: string }): Promise<Device> {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-tls-'));
  const made = spawnSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:prime256v1',
      '-nodes',
      '-days',
      '2',
      '-subj',
      options.subject,
      '-keyout',
      join(dir, 'key.pem'),
      '-out',
      join(dir, 'cert.pem'),
    ],
    { encoding: 'utf8' },
  );
  if (made.status !== 0) throw new Error(`openssl failed: ${made.stderr}`);
  const log: string[] = [];
  const expected = `Basic ${Buffer.from(`${options.username}:${options.password}`).toString('base64')}`;
  const server = createHttpsServer(
    { key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) },
    (req, res) => {
      const ok = req.headers.authorization === expected;
      log.push(
        `${req.method} ${req.url} ${req.headers.authorization ? (ok ? 'AUTH_OK' : 'AUTH_FAIL') : 'NO_AUTH'}`,
      );
      if (!ok) {
        res.writeHead(401, { 'www-authenticate': `Basic realm="${options.realm}"` }).end('denied');
        return;
      }
      res.writeHead(200, { 'content-type': 'text/html' }).end(`<title>${options.title ?? 'Device'}</title>`);
    },
  );
  await listenOn(server, options.host, options.port);
  return {
    host: options.host,
    port: options.port,
    records: () => [...log],
    stop: () =>
      new Promise((resolve) =>
        server.close(() => {
          rmSync(dir, { recursive: true, force: true });
          resolve();
        }),
      ),
  };
}

export interface SshDeviceOptions {
  host: string;
  port: number;
  /** Software part of the identification line, e.g. `dropbear_2014.63` or `ROSSSH`. */
  ident: string;
  username: string;
  password: string;
}

/** An ssh2 server that accepts one known password and records auth, channel and exec requests. */
export async function startSshDevice(options: SshDeviceOptions): Promise<Device> {
  const log: string[] = [];
  // An EC key in PEM: ssh2's own ed25519 generator yields an unparsable key about 1 time in 300.
  const { privateKey } = generateKeyPairSync('ec', {
    namedCurve: 'prime256v1',
    privateKeyEncoding: { type: 'sec1', format: 'pem' },
    publicKeyEncoding: { type: 'spki', format: 'pem' },
  });
  const server = new ssh2.Server({ hostKeys: [privateKey], ident: options.ident }, (client) => {
    log.push('CONNECT');
    client.on('authentication', (ctx) => {
      if (
        ctx.method === 'password' &&
        ctx.username === options.username &&
        ctx.password === options.password
      ) {
        log.push(`LOGIN_OK ${ctx.username}`);
        ctx.accept();
      } else {
        if (ctx.method !== 'none') log.push(`LOGIN_FAIL ${ctx.username} ${ctx.method}`);
        ctx.reject(['password']);
      }
    });
    client.on('session', (accept) => {
      log.push('SESSION');
      const session = accept();
      session.on('exec', (_a, _r, info) => log.push(`CMD ${info.command}`));
      session.on('shell', () => log.push('SHELL'));
    });
    client.on('request', (_a, _r, name) => log.push(`REQUEST ${name}`));
    client.on('close', () => log.push('DISCONNECT'));
    client.on('error', () => log.push('ERROR'));
  });
  await listenOn(server, options.host, options.port);
  return {
    host: options.host,
    port: options.port,
    records: () => [...log],
    stop: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

export type HostileMode = 'endless-banner' | 'negotiation-loop' | 'silent' | 'huge-header' | 'slow-drip';

/** Services that try to hang or exhaust a scanner. */
export async function startHostileDevice(options: {
  host: string;
  port: number;
  mode: HostileMode;
}): Promise<Device> {
  const log: string[] = [];
  const sockets = new Set<Socket>();
  const server: NetServer = createNetServer((socket) => {
    sockets.add(socket);
    log.push('CONNECT');
    socket.on('error', () => {});
    socket.on('close', () => sockets.delete(socket));
    const pump = (chunk: Buffer) => {
      const tick = () => {
        if (socket.destroyed) return;
        if (socket.write(chunk)) setImmediate(tick);
        else socket.once('drain', tick);
      };
      tick();
    };
    if (options.mode === 'endless-banner') pump(Buffer.from('A'.repeat(4096)));
    else if (options.mode === 'negotiation-loop') {
      // Re-asks DO ECHO / WILL SGA forever, whatever the answer.
      socket.on('data', () => {});
      pump(Buffer.from([255, 253, 1, 255, 251, 3, 255, 253, 24, 255, 251, 1]));
    } else if (options.mode === 'huge-header') {
      socket.once('data', () => {
        socket.write('HTTP/1.1 200 OK\r\n');
        pump(Buffer.from(`X-Filler: ${'B'.repeat(4000)}\r\n`));
      });
    } else if (options.mode === 'slow-drip') {
      // One byte every 50 ms, never a prompt: defeats idle timers, not a total bound.
      const timer = setInterval(() => (socket.destroyed ? clearInterval(timer) : socket.write('.')), 50);
      socket.on('close', () => clearInterval(timer));
    }
    // 'silent' accepts and never says anything.
  });
  await listenOn(server, options.host, options.port);
  return {
    host: options.host,
    port: options.port,
    records: () => [...log],
    stop: () =>
      new Promise((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
