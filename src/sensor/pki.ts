/**
 * The centre's keys and certificates: its own CA (ECDSA P-256, made at first start and kept in
 * the PKI directory, private keys mode 0600), the server certificate it shows sensors, client
 * certificates for the terminals' keys, and the Ed25519 key that signs policies and IoC lists.
 * Certificates are built by @peculiar/x509 over node's WebCrypto: no hand-made ASN.1.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import {
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  randomBytes,
  webcrypto,
  type KeyObject,
} from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname, networkInterfaces } from 'node:os';
import { join } from 'node:path';
import { writeFileAtomic } from '../core/index.ts';
import { certificateSha256 } from './protocol.ts';

x509.cryptoProvider.set(webcrypto as unknown as Crypto);

const EC_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256', hash: 'SHA-256' } as const;
const DAY_MS = 86_400_000;
const CA_YEARS = 10;
const SERVER_CERT_DAYS = 397;

export interface CentrePki {
  caPem: string;
  /** sha256 hex of the CA certificate's DER: the fingerprint invite tokens carry. */
  caSha256: string;
  serverKeyPem: string;
  serverCertPem: string;
  policyKey: KeyObject;
  policyPublicKeyPem: string;
  /** A client certificate (CN = sensorId) for the terminal's P-256 public key. */
  issueClientCertificate(publicKeySpkiPem: string, sensorId: string, days: number): Promise<string>;
}

function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = bytes[0]! & 0x7f; // a positive INTEGER
  return bytes.toString('hex');
}

async function pkcs8Pem(key: CryptoKey): Promise<string> {
  const der = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', key as webcrypto.CryptoKey));
  return x509.PemConverter.encode(der, 'PRIVATE KEY');
}

async function importEcPrivateKey(pem: string): Promise<CryptoKey> {
  const der = x509.PemConverter.decodeFirst(pem);
  return (await webcrypto.subtle.importKey('pkcs8', der, EC_ALGORITHM, true, ['sign'])) as CryptoKey;
}

async function createCa(dir: string): Promise<void> {
  const keys = (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `CN=tsunagi sensor CA ${new Date(now).toISOString().slice(0, 10)}`,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + CA_YEARS * 365 * DAY_MS),
    keys,
    signingAlgorithm: EC_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(true, 0, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  // The key first: a CA certificate without its key beside it would be useless.
  writeFileAtomic(join(dir, 'ca.key.pem'), await pkcs8Pem(keys.privateKey), { mode: 0o600 });
  writeFileAtomic(join(dir, 'ca.pem'), certificate.toString('pem'), { mode: 0o644 });
}

/** The names a sensor may reach the centre by: the listen host, this host's addresses and name, extras. */
export function serverNames(listenHost: string, extra: readonly string[]): string[] {
  const names = new Set<string>(['localhost', '127.0.0.1', '::1', hostname(), ...extra]);
  if (listenHost !== '0.0.0.0' && listenHost !== '::') names.add(listenHost);
  for (const addresses of Object.values(networkInterfaces()))
    for (const address of addresses ?? [])
      if (!address.address.startsWith('fe80')) names.add(address.address);
  return [...names];
}

async function issue(
  ca: { certificate: x509.X509Certificate; key: CryptoKey },
  subject: string,
  publicKey: CryptoKey,
  days: number,
  extensions: x509.Extension[],
): Promise<string> {
  const now = Date.now();
  const certificate = await x509.X509CertificateGenerator.create({
    serialNumber: serialNumber(),
    subject,
    issuer: ca.certificate.subject,
    notBefore: new Date(now - 60_000),
    notAfter: new Date(now + days * DAY_MS),
    publicKey,
    signingKey: ca.key,
    signingAlgorithm: EC_ALGORITHM,
    extensions: [
      new x509.BasicConstraintsExtension(false, undefined, true),
      await x509.AuthorityKeyIdentifierExtension.create(ca.certificate, false),
      await x509.SubjectKeyIdentifierExtension.create(publicKey),
      ...extensions,
    ],
  });
  return certificate.toString('pem');
}

async function issueServerCertificate(
  ca: { certificate: x509.X509Certificate; key: CryptoKey },
  names: readonly string[],
): Promise<{ keyPem: string; certPem: string }> {
  const keys = (await webcrypto.subtle.generateKey(EC_ALGORITHM, true, ['sign', 'verify'])) as CryptoKeyPair;
  const alternativeNames = names.map((name) =>
    isIP(name) ? { type: 'ip' as const, value: name } : { type: 'dns' as const, value: name },
  );
  const certPem = await issue(ca, 'CN=tsunagi sensor centre', keys.publicKey, SERVER_CERT_DAYS, [
    new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
    new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.serverAuth]),
    new x509.SubjectAlternativeNameExtension(alternativeNames),
  ]);
  return { keyPem: await pkcs8Pem(keys.privateKey), certPem };
}

function loadPolicyKey(dir: string): KeyObject {
  const file = join(dir, 'policy.key.pem');
  if (!existsSync(file)) {
    const { privateKey } = generateKeyPairSync('ed25519');
    writeFileAtomic(file, privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(), { mode: 0o600 });
  }
  return createPrivateKey(readFileSync(file, 'utf8'));
}

/** The CA's fingerprint, making the CA (and the policy key) at first use. */
export async function ensureCa(dir: string): Promise<{ caPem: string; caSha256: string }> {
  if (!existsSync(join(dir, 'ca.pem')) || !existsSync(join(dir, 'ca.key.pem'))) await createCa(dir);
  loadPolicyKey(dir);
  const caPem = readFileSync(join(dir, 'ca.pem'), 'utf8');
  return { caPem, caSha256: certificateSha256(caPem) };
}

/**
 * The centre's PKI from `dir`, made at first start. The server certificate is issued afresh at
 * every start for the names the centre answers on now (addresses change; the CA stays).
 */
export async function openPki(dir: string, names: readonly string[]): Promise<CentrePki> {
  const { caPem, caSha256 } = await ensureCa(dir);
  const ca = {
    certificate: new x509.X509Certificate(caPem),
    key: await importEcPrivateKey(readFileSync(join(dir, 'ca.key.pem'), 'utf8')),
  };
  const server = await issueServerCertificate(ca, names);
  const policyKey = loadPolicyKey(dir);
  return {
    caPem,
    caSha256,
    serverKeyPem: server.keyPem,
    serverCertPem: server.certPem,
    policyKey,
    policyPublicKeyPem: createPublicKey(policyKey).export({ type: 'spki', format: 'pem' }).toString(),
    async issueClientCertificate(publicKeySpkiPem, sensorId, days) {
      const der = x509.PemConverter.decodeFirst(publicKeySpkiPem);
      const publicKey = (await webcrypto.subtle.importKey('spki', der, EC_ALGORITHM, true, [
        'verify',
      ])) as CryptoKey;
      return issue(ca, `CN=${sensorId}`, publicKey, days, [
        new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true),
        new x509.ExtendedKeyUsageExtension([x509.ExtendedKeyUsage.clientAuth]),
      ]);
    },
  };
}
