/**
 * A DNS laboratory for the hygiene tests, built from real Debian daemons at test time: BIND's
 * dnssec-keygen and dnssec-signzone sign zones with fresh keys, `named` serves them on a
 * loopback high port, and a validating Unbound with a local trust anchor for `test.` resolves
 * through it. Nothing here is a mock: tsunagi's verdicts are checked against what Unbound says.
 *
 * Zones (all below the anchored `test.`):
 * - signed.test   ECDSA P-256 (13), NSEC3, with an unsigned child sub.signed.test (insecure)
 * - rsa.test      RSA/SHA-256 (8), NSEC
 * - ed.test       Ed25519 (15), NSEC
 * - unsigned.test delegated without DS (insecure, proven by the parent's NSEC)
 * - broken.test   signed and delegated, but its SOA signature is corrupted (bogus)
 * - mail.test     unsigned: SPF, DMARC, DKIM, MTA-STS and TLS-RPT records of every kind
 * - nx.test       ECDSA P-256, NSEC3: a wildcard, and CNAME chains: chain -> hop.rsa.test ->
 *                 www.nx.test (signed all along) and alias -> www.unsigned.test (into an unsigned zone)
 * - badnx.test    ECDSA P-256, NSEC3, with its apex's NSEC3 taken out after signing: a name
 *                 error there has no closest encloser proof (bogus)
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { createDnsClient, parseResolver, type DnsClient } from './dns/client.ts';
import type { SurveyRow } from './index.ts';
import { domainScore } from './score/score.ts';

export interface DnsLab {
  /** The authoritative server (BIND), HOST:PORT. */
  authoritative: string;
  /** The validating resolver (Unbound), HOST:PORT. */
  resolver: string;
  /** The trust anchor for `test.` in zone-file form (the KSK's DNSKEY). */
  trustAnchor: string;
  trustAnchorFile: string;
  dir: string;
  /** A DKIM public key published at sel1._domainkey.strict.mail.test. */
  dkimPublicKey: string;
  stop(): Promise<void>;
}

const TOOLS = ['named', 'dnssec-keygen', 'dnssec-signzone', 'unbound', 'dig', 'openssl'];

/** Why the lab cannot run here, or undefined when every daemon is installed. */
/** A DNS client of the lab's validating resolver, with the settings every lab test uses. */
export function labClient(lab: DnsLab): DnsClient {
  return createDnsClient({
    resolver: parseResolver(lab.resolver),
    timeoutMs: 2000,
    retries: 1,
    udpPayloadSize: 1232,
  });
}

export function labUnavailable(): string | undefined {
  const missing = TOOLS.filter((tool) => spawnSync('sh', ['-c', `command -v ${tool}`]).status !== 0);
  return missing.length
    ? `needs ${missing.join(', ')} (Debian packages bind9, bind9-utils, bind9-dnsutils, unbound, openssl; scripts/install-test-tools.sh)`
    : undefined;
}

/**
 * A surveyed domain as the room records it, for tests that need survey rows without a survey:
 * every check at its missing or unsigned state unless `fields` says otherwise, scored by the
 * room's own rule. An organisation or sector left undefined is left out of the row.
 */
export function surveyRow(
  domain: string,
  organisation: string | undefined,
  sector: string | undefined,
  fields: Partial<SurveyRow> = {},
): SurveyRow {
  const checks = {
    domain,
    ...(organisation === undefined ? {} : { organisation }),
    ...(sector === undefined ? {} : { sector }),
    dnssec: 'insecure',
    spf: 'missing',
    dmarc_policy: 'missing',
    dkim: 'unchecked',
    mta_sts: 'missing',
    tls_rpt: 'missing',
    dane: 'n/a',
    ipv6: 'none',
    https: 'ok',
    hsts: 'missing',
    reasons: { dnssec: 'no DS record at the parent' },
    dkimKeys: [],
    ...fields,
  } as Omit<SurveyRow, 'score'>;
  return { ...checks, score: domainScore(checks) };
}

export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * BIND and Unbound run from `dir`'s named.conf and unbound.conf (see namedConf and unboundConf),
 * in the foreground so stop() can end them; stop() also removes `dir`. The hygiene benchmark's
 * resolver (bench/hygiene/lab.ts) runs on the same pair.
 */
export function dnsDaemons(dir: string): { start(): void; stop(): Promise<void> } {
  const processes: ChildProcess[] = [];
  return {
    start() {
      // Their logs are not read (named -g logs to stderr): 'ignore', so an unread pipe cannot fill.
      const stdio: ['ignore', 'ignore', 'ignore'] = ['ignore', 'ignore', 'ignore'];
      processes.push(spawn('named', ['-g', '-n', '1', '-c', join(dir, 'named.conf')], { stdio }));
      processes.push(spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio }));
    },
    async stop() {
      for (const child of processes) if (child.exitCode === null) child.kill('SIGTERM');
      await Promise.all(
        processes.map((child) =>
          child.exitCode === null ? new Promise((resolve) => child.once('exit', resolve)) : undefined,
        ),
      );
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** An authoritative-only BIND on 127.0.0.1:PORT serving each zone from its file. */
export function namedConf(
  dir: string,
  port: number,
  zones: readonly { zone: string; file: string }[],
): string {
  return `options {
directory "${dir}";
listen-on port ${port} { 127.0.0.1; };
listen-on-v6 { none; };
pid-file "${dir}/named.pid";
session-keyfile "${dir}/session.key";
recursion no;
dnssec-validation no;
notify no;
};
controls { };
${zones.map((z) => `zone "${z.zone}" { type primary; file "${z.file}"; };`).join('\n')}
`;
}

/**
 * An Unbound on ADDRESS:PORT that asks the BIND on authPort for the given zones; `settings` are
 * the server lines that differ between uses (module-config: validating or not, caching).
 */
export function unboundConf(
  dir: string,
  o: {
    address: string;
    port: number;
    authPort: number;
    zones: readonly string[];
    settings: readonly string[];
  },
): string {
  return `server:
interface: ${o.address}
port: ${o.port}
do-ip6: no
do-not-query-localhost: no
username: ""
chroot: ""
directory: "${dir}"
pidfile: "${dir}/unbound.pid"
use-syslog: no
logfile: ""
verbosity: 0
num-threads: 1
so-reuseport: no
access-control: 127.0.0.0/8 allow
${o.settings.join('\n')}
qname-minimisation: no
local-zone: "test." nodefault
remote-control:
control-enable: no
${o.zones.map((z) => `stub-zone:\n  name: "${z}"\n  stub-addr: 127.0.0.1@${o.authPort}\n`).join('')}`;
}

/** Polls ADDRESS:PORT with dig until it answers NAME's SOA (15 s at the most). */
export async function waitUntilAnswering(address: string, port: number, name: string): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const result = spawnSync(
      'dig',
      ['+short', '+time=1', '+tries=1', '-p', String(port), `@${address}`, name, 'SOA'],
      {
        encoding: 'utf8',
      },
    );
    if (result.status === 0 && result.stdout.trim()) return;
    await sleep(100);
  }
  throw new Error(`no DNS server answering for ${name} on ${address}:${port}`);
}

function run(command: string, args: string[], cwd: string): string {
  const result = spawnSync(command, args, { cwd, encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`${command} ${args.join(' ')}: ${result.stderr}`);
  return result.stdout.trim();
}

const SOA = (zone: string) => `$TTL 300
@ IN SOA ns.test. hostmaster.${zone} 1 3600 600 86400 300
@ IN NS ns.test.
`;

function keygen(dir: string, zone: string, algorithm: string): void {
  const bits = algorithm === 'RSASHA256' ? ['-b', '2048'] : [];
  run('dnssec-keygen', ['-q', '-K', dir, '-a', algorithm, ...bits, '-f', 'KSK', '-n', 'ZONE', zone], dir);
  run('dnssec-keygen', ['-q', '-K', dir, '-a', algorithm, ...bits, '-n', 'ZONE', zone], dir);
}

function sign(dir: string, zone: string, nsec3: boolean): void {
  run(
    'dnssec-signzone',
    [
      '-q',
      '-K',
      dir,
      '-d',
      dir,
      '-S',
      '-O',
      'full',
      ...(nsec3 ? ['-3', 'ab12', '-H', '0'] : []),
      '-o',
      zone,
      '-f',
      `${zone}signed`,
      `${zone}zone`,
    ],
    dir,
  );
}

function dsOf(dir: string, zone: string): string {
  return readFileSync(join(dir, `dsset-${zone}`), 'utf8');
}

/** Flips one base64 character inside the signature of the RRSIG over `type` at the apex. */
function corruptSignature(file: string, zone: string, type: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const at = lines.findIndex((line) => {
    const f = line.split(/\s+/);
    return f[0] === zone && f[3] === 'RRSIG' && f[4] === type;
  });
  if (at < 0) throw new Error(`no RRSIG ${type} at ${zone} in ${file}`);
  const fields = lines[at]!.split(/\s+/);
  const sig = fields.at(-1)!;
  const middle = Math.floor(sig.length / 2);
  const flipped = sig[middle] === 'A' ? 'B' : 'A';
  fields[fields.length - 1] = sig.slice(0, middle) + flipped + sig.slice(middle + 1);
  lines[at] = fields.join(' ');
  writeFileSync(file, lines.join('\n'));
}

/** Takes the NSEC3 record of the zone apex (the one listing SOA) and its signature out of a signed zone. */
function removeApexNsec3(file: string): void {
  const lines = readFileSync(file, 'utf8').split('\n');
  const apex = lines.find((line) => {
    const f = line.split(/\s+/);
    return f[3] === 'NSEC3' && f.includes('SOA');
  });
  if (!apex) throw new Error(`no NSEC3 of the apex in ${file}`);
  const owner = apex.split(/\s+/)[0];
  const kept = lines.filter((line) => {
    const f = line.split(/\s+/);
    return !(f[0] === owner && (f[3] === 'NSEC3' || (f[3] === 'RRSIG' && f[4] === 'NSEC3')));
  });
  writeFileSync(file, kept.join('\n'));
}

/** BIND's and Unbound's configuration: every served zone from BIND, Unbound validating from `test.`. */
function writeServerConfigs(
  dir: string,
  o: {
    authPort: number;
    resolverPort: number;
    trustAnchorFile: string;
    served: readonly string[];
    file: (zone: string) => string;
  },
): void {
  const { authPort, resolverPort, trustAnchorFile, served, file } = o;
  writeFileSync(
    join(dir, 'named.conf'),
    namedConf(
      dir,
      authPort,
      served.map((zone) => ({ zone, file: file(zone) })),
    ),
  );
  writeFileSync(
    join(dir, 'unbound.conf'),
    unboundConf(dir, {
      address: '127.0.0.1',
      port: resolverPort,
      authPort,
      zones: served,
      // Validating against the lab's own anchor, and caching nothing: each test sees the zones as signed.
      settings: [
        'module-config: "validator iterator"',
        `trust-anchor-file: "${trustAnchorFile}"`,
        'cache-max-ttl: 0',
        'cache-max-negative-ttl: 0',
        'serve-expired: no',
        'harden-below-nxdomain: no',
      ],
    }),
  );
}

export async function startDnsLab(): Promise<DnsLab> {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-hygiene-lab-'));
  const daemons = dnsDaemons(dir);
  const stop = daemons.stop;
  try {
    const authPort = await freePort();
    const resolverPort = await freePort();
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
    const dkimPublicKey = publicKey.export({ format: 'der', type: 'spki' }).toString('base64');

    const zones: Record<string, { body: string; algorithm?: string; nsec3?: boolean }> = {
      'signed.test.': {
        algorithm: 'ECDSAP256SHA256',
        nsec3: true,
        body: `@ IN A 127.0.0.1
@ IN AAAA ::1
@ IN MX 10 mx.signed.test.
@ IN TXT "v=spf1 mx -all"
mx IN A 127.0.0.1
mx IN AAAA ::1
_25._tcp.mx IN TLSA 3 1 1 0000000000000000000000000000000000000000000000000000000000000000
www IN A 127.0.0.1
_dmarc IN TXT "v=DMARC1; p=reject; rua=mailto:dmarc@signed.test"
sub IN NS ns.test.
`,
      },
      'rsa.test.': {
        algorithm: 'RSASHA256',
        body: '@ IN A 127.0.0.1\n*.wild IN A 127.0.0.1\nhop IN CNAME www.nx.test.\n',
      },
      'nx.test.': {
        algorithm: 'ECDSAP256SHA256',
        nsec3: true,
        body: `@ IN A 127.0.0.1
www IN A 127.0.0.1
*.wild IN A 127.0.0.1
chain IN CNAME hop.rsa.test.
alias IN CNAME www.unsigned.test.
`,
      },
      'badnx.test.': {
        algorithm: 'ECDSAP256SHA256',
        nsec3: true,
        body: '@ IN A 127.0.0.1\nwww IN A 127.0.0.1\n',
      },
      'ed.test.': { algorithm: 'ED25519', body: '@ IN A 127.0.0.1\n' },
      'broken.test.': { algorithm: 'ECDSAP256SHA256', body: '@ IN A 127.0.0.1\n' },
      'unsigned.test.': { body: '@ IN A 127.0.0.1\n@ IN TXT "hello"\nwww IN A 127.0.0.1\n' },
      'sub.signed.test.': { body: '@ IN A 127.0.0.1\n' },
      'mail.test.': { body: mailZone(dkimPublicKey) },
    };
    for (const [zone, spec] of Object.entries(zones)) {
      writeFileSync(join(dir, `${zone}zone`), SOA(zone) + spec.body);
      if (spec.algorithm) keygen(dir, zone, spec.algorithm);
    }
    for (const [zone, spec] of Object.entries(zones))
      if (spec.algorithm) sign(dir, zone, spec.nsec3 ?? false);
    corruptSignature(join(dir, 'broken.test.signed'), 'broken.test.', 'SOA');
    removeApexNsec3(join(dir, 'badnx.test.signed'));

    const children = ['signed', 'rsa', 'ed', 'broken', 'unsigned', 'mail', 'nx', 'badnx'];
    const parent =
      SOA('test.') +
      `ns IN A 127.0.0.1\n` +
      children.map((c) => `${c} IN NS ns.test.\n`).join('') +
      ['signed.test.', 'rsa.test.', 'ed.test.', 'broken.test.', 'nx.test.', 'badnx.test.']
        .map((z) => dsOf(dir, z))
        .join('');
    writeFileSync(join(dir, 'test.zone'), parent);
    keygen(dir, 'test.', 'ECDSAP256SHA256');
    sign(dir, 'test.', false);
    const ksk = readdirSync(dir).find(
      (f) =>
        f.startsWith('Ktest.+') &&
        f.endsWith('.key') &&
        /IN DNSKEY 257 /.test(readFileSync(join(dir, f), 'utf8')),
    )!;
    const trustAnchor = readFileSync(join(dir, ksk), 'utf8')
      .split('\n')
      .filter((l) => l && !l.startsWith(';'))
      .join('\n');
    const trustAnchorFile = join(dir, 'anchor.key');
    writeFileSync(trustAnchorFile, `${trustAnchor}\n`);

    const served = ['test.', ...Object.keys(zones)];
    const file = (zone: string) =>
      zone === 'test.' || zones[zone]?.algorithm ? `${zone}signed` : `${zone}zone`;
    writeServerConfigs(dir, { authPort, resolverPort, trustAnchorFile, served, file });
    daemons.start();
    const lab: DnsLab = {
      authoritative: `127.0.0.1:${authPort}`,
      resolver: `127.0.0.1:${resolverPort}`,
      trustAnchor,
      trustAnchorFile,
      dir,
      dkimPublicKey,
      stop,
    };
    await waitUntilAnswering('127.0.0.1', authPort, 'test.');
    await waitUntilAnswering('127.0.0.1', resolverPort, 'signed.test.');
    return lab;
  } catch (error) {
    await stop();
    throw error;
  }
}

/** SPF, DMARC, DKIM, MTA-STS and TLS-RPT records of every kind the checks distinguish. */
function mailZone(dkimKey: string): string {
  const chain = Array.from(
    { length: 11 },
    (_, i) => `l${i + 1} IN TXT "v=spf1 include:l${i + 2}.mail.test -all"\n`,
  ).join('');
  const dkim = dkimKey
    .match(/.{1,200}/g)!
    .map((part) => `"${part}"`)
    .join(' ');
  return `@ IN TXT "v=spf1 -all"
_dmarc IN TXT "v=DMARC1; p=reject; sp=quarantine; rua=mailto:agg@mail.test"
strict IN TXT "v=spf1 ip4:192.0.2.0/24 ip6:2001:db8::/32 -all"
strict IN MX 10 mx.strict.mail.test.
mx.strict IN A 127.0.0.1
mx.strict IN AAAA ::1
strict IN A 127.0.0.1
strict IN AAAA ::1
_dmarc.strict IN TXT "v=DMARC1; p=reject; pct=100; rua=mailto:agg@mail.test,mailto:x@example.test; ruf=mailto:forensic@mail.test"
sel1._domainkey.strict IN TXT "v=DKIM1; k=rsa; p=" ${dkim}
old._domainkey.strict IN TXT "v=DKIM1; k=rsa; p="
_mta-sts.strict IN TXT "v=STSv1; id=20261205"
_smtp._tls.strict IN TXT "v=TLSRPTv1; rua=mailto:tlsrpt@mail.test"
mta-sts.strict IN A 127.0.0.1
soft IN TXT "v=spf1 a mx ~all"
soft IN A 127.0.0.10
soft IN MX 10 soft.mail.test.
_dmarc.soft IN TXT "v=DMARC1; p=quarantine; pct=50; sp=reject"
neutral IN TXT "v=spf1 ip4:192.0.2.1 ?all"
_dmarc.neutral IN TXT "v=DMARC1; p=none; ruf=mailto:f@mail.test"
permissive IN TXT "v=spf1 +all"
_dmarc.permissive IN TXT "v=DMARC1; p=whatever"
noall IN TXT "v=spf1 ip4:192.0.2.1"
redirect IN TXT "v=spf1 redirect=strict.mail.test"
include IN TXT "v=spf1 include:strict.mail.test include:soft.mail.test -all"
toomany IN TXT "v=spf1 include:l1.mail.test -all"
${chain}l12 IN TXT "v=spf1 -all"
void IN TXT "v=spf1 a:nx1.mail.test a:nx2.mail.test a:nx3.mail.test -all"
syntax IN TXT "v=spf1 ip4:999.1.1.1 -all"
twospf IN TXT "v=spf1 -all"
twospf IN TXT "v=spf1 ~all"
includemissing IN TXT "v=spf1 include:nothing.mail.test -all"
nothing IN TXT "no policy here"
exists IN TXT "v=spf1 exists:%{i}.allow.mail.test -all"
192.0.2.77.allow IN A 127.0.0.2
${Array.from({ length: 12 }, (_, i) => `big IN TXT "${String(i).padStart(3, '0')}${'x'.repeat(180)}"\n`).join('')}twodmarc IN TXT "v=spf1 -all"
_dmarc.twodmarc IN TXT "v=DMARC1; p=none"
_dmarc.twodmarc IN TXT "v=DMARC1; p=reject"
`;
}

export interface TestCertificates {
  /** The CA certificate (PEM) a client must trust. */
  ca: string;
  key: string;
  cert: string;
}

/** A throwaway CA and a server certificate for `names`, made with the openssl command. */
export function makeCertificates(names: readonly string[]): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-hygiene-tls-'));
  try {
    const ssl = (...args: string[]) => run('openssl', args, dir);
    ssl(
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '2',
      '-subj',
      '/CN=tsunagi test CA',
      '-keyout',
      'ca.key',
      '-out',
      'ca.pem',
    );
    ssl(
      'req',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-subj',
      `/CN=${names[0]}`,
      '-keyout',
      'server.key',
      '-out',
      'server.csr',
    );
    writeFileSync(join(dir, 'san.ext'), `subjectAltName=${names.map((n) => `DNS:${n}`).join(',')}\n`);
    ssl(
      'x509',
      '-req',
      '-in',
      'server.csr',
      '-CA',
      'ca.pem',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-days',
      '2',
      '-extfile',
      'san.ext',
      '-out',
      'server.pem',
    );
    const read = (f: string) => readFileSync(join(dir, f), 'utf8');
    return { ca: read('ca.pem'), key: read('server.key'), cert: read('server.pem') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
