/**
 * The wire contract's helpers: token form, proof of possession, canonical JSON, signed documents
 * (tampered body, other key, non-canonical body), the batch body and its hash chain, and a
 * seeded random-bytes fuzz of the batch parser (only BatchFormatError may come out).
 */
import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, test } from 'node:test';
import {
  batchHash,
  BatchFormatError,
  canonicalJson,
  encodeBatchBody,
  formatInviteToken,
  GENESIS_HASH,
  InviteTokenError,
  IocListBody,
  parseBatchBody,
  parseInviteToken,
  PolicyBody,
  sensorIdOf,
  signDocument,
  SignedDocumentError,
  signProof,
  verifyDocument,
  verifyProof,
  type SensorEvent,
} from './protocol.ts';

const policy: PolicyBody = {
  version: 1,
  fields: { process: ['pid', 'exe', 'sha256'], socket: ['pid', 'proto', 'local', 'remote'] },
  commandLines: false,
  hashExecutables: true,
  fileContents: false,
  scanIntervalMs: 5000,
  batchMaxEvents: 500,
  budgets: { cpuPercent: 1, rssMb: 80, hashMbPerS: 20, netBytesPerDay: 10_485_760 },
};

describe('invite token', () => {
  test('round-trips and rejects other shapes', () => {
    const token = { tokenId: 'abcdef0123456789', secret: 'A'.repeat(43), caSha256: 'f'.repeat(64) };
    assert.deepEqual(parseInviteToken(formatInviteToken(token)), token);
    for (const bad of ['', 'tsi1.a.b.c', `tsi2.abcdef0123456789.${'A'.repeat(43)}.${'f'.repeat(64)}`]) {
      assert.throws(() => parseInviteToken(bad), InviteTokenError);
    }
  });
});

describe('proof of possession', () => {
  test('a P-256 signature over token and key verifies; another token or key does not', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const proof = signProof('tok', pem, privateKey);
    assert.equal(verifyProof('tok', pem, proof), true);
    assert.equal(verifyProof('other', pem, proof), false);
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    assert.equal(verifyProof('tok', other.export({ type: 'spki', format: 'pem' }).toString(), proof), false);
    assert.equal(verifyProof('tok', 'not a key', proof), false);
    assert.match(sensorIdOf(pem), /^[0-9a-f]{64}$/);
  });

  test('a key on another curve is refused even with a valid signature', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    assert.equal(verifyProof('tok', pem, signProof('tok', pem, privateKey)), false);
  });
});

describe('canonical JSON and signed documents', () => {
  test('keys are sorted at every depth, undefined dropped', () => {
    assert.equal(
      canonicalJson({ b: 1, a: { d: [1, { z: 0, y: 'x' }], c: undefined } }),
      '{"a":{"d":[1,{"y":"x","z":0}]},"b":1}',
    );
    assert.throws(() => canonicalJson({ a: Number.NaN }));
  });

  test('a signed policy verifies with its key; a changed body, another key or a reordered body fails', () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519');
    const document = signDocument(policy, privateKey);
    assert.deepEqual(verifyDocument(document, publicKey, PolicyBody), policy);
    const tampered = {
      ...document,
      body: document.body.replace('"scanIntervalMs":5000', '"scanIntervalMs":1000'),
    };
    assert.throws(() => verifyDocument(tampered, publicKey, PolicyBody), SignedDocumentError);
    const other = generateKeyPairSync('ed25519').publicKey;
    assert.throws(() => verifyDocument(document, other, PolicyBody), SignedDocumentError);
    const reordered = signDocument({}, privateKey);
    reordered.body = JSON.stringify({ version: 1, sha256: [], ipPorts: [], domains: [] });
    assert.throws(() => verifyDocument(reordered, publicKey, IocListBody), SignedDocumentError);
    assert.throws(
      () => verifyDocument(signDocument({ version: 1 }, privateKey), publicKey, PolicyBody),
      SignedDocumentError,
    );
  });

  test('an IoC list with IPv4 and IPv6 ports, domains and their resolved addresses is valid', () => {
    const list = {
      version: 3,
      sha256: ['a'.repeat(64)],
      ipPorts: ['192.0.2.1:443', '[2001:db8::1]:8443'],
      domains: ['c2.example.net'],
      resolved: [{ domain: 'c2.example.net', addresses: ['192.0.2.9', '2001:db8::9'], resolvedAt: 1 }],
    };
    assert.deepEqual(IocListBody.parse(list), list);
    assert.equal(IocListBody.safeParse({ ...list, domains: ['bad domain'] }).success, false);
    const resolved = (entry: object) => IocListBody.safeParse({ ...list, resolved: [entry] }).success;
    assert.equal(resolved({ domain: 'c2.example.net', addresses: ['not an address'], resolvedAt: 1 }), false);
    assert.equal(resolved({ domain: 'c2.example.net', addresses: [], resolvedAt: 1 }), false);
    // A list of an older centre, without addresses, still reads (as none resolved).
    const { resolved: _none, ...older } = list;
    assert.deepEqual(IocListBody.parse(older).resolved, []);
  });
});

describe('batches', () => {
  const events: SensorEvent[] = [
    { type: 'process.start', at: 1, pid: 10, exe: '/usr/bin/curl', sha256: 'b'.repeat(64) },
    {
      type: 'socket.open',
      at: 2,
      pid: 10,
      proto: 'tcp',
      local: '10.0.0.2:5555',
      remote: '192.0.2.1:443',
      state: 'ESTABLISHED',
    },
    { type: 'ioc.match', at: 3, ioc: '192.0.2.1:443', kind: 'ip-port', pid: 10, exe: '/usr/bin/curl' },
  ];
  const header = {
    sensorId: 'c'.repeat(64),
    seq: 1,
    prevHash: GENESIS_HASH,
    count: events.length,
    policyVersion: 1,
  };

  test('a body round-trips and its hash chains on prevHash', () => {
    const body = encodeBatchBody(header, events);
    assert.deepEqual(parseBatchBody(body), { header, events });
    const first = batchHash(GENESIS_HASH, body);
    assert.notEqual(batchHash('1'.repeat(64), body), first);
    const changed = Buffer.from(body);
    changed[changed.length - 3] = changed[changed.length - 3]! ^ 1;
    assert.notEqual(batchHash(GENESIS_HASH, changed), first);
  });

  test('a wrong count, an unknown field (a command line) or a bad header is refused with its reason', () => {
    const reason = (body: Buffer) => {
      try {
        parseBatchBody(body);
        return 'ok';
      } catch (error) {
        assert.ok(error instanceof BatchFormatError);
        return error.reason;
      }
    };
    assert.equal(reason(encodeBatchBody({ ...header, count: 2 }, events)), 'count');
    const withCmdline = [{ ...events[0], cmdline: 'curl http://x' } as unknown as SensorEvent];
    assert.equal(reason(encodeBatchBody({ ...header, count: 1 }, withCmdline)), 'event');
    assert.equal(reason(Buffer.from('{"seq":1}\n')), 'header');
    assert.equal(reason(Buffer.alloc(0)), 'header');
  });

  test('fuzz: random bytes and mutated bodies throw nothing but BatchFormatError', () => {
    let seed = 0x5eed;
    const random = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed / 2 ** 32;
    };
    const valid = encodeBatchBody(header, events);
    for (let i = 0; i < 3000; i++) {
      let input: Buffer;
      if (i % 2 === 0) {
        input = Buffer.alloc(Math.floor(random() * 400));
        for (let j = 0; j < input.length; j++) input[j] = Math.floor(random() * 256);
      } else {
        input = Buffer.from(valid);
        for (let k = 0; k < 1 + Math.floor(random() * 4); k++) {
          input[Math.floor(random() * input.length)] = Math.floor(random() * 256);
        }
      }
      try {
        parseBatchBody(input);
      } catch (error) {
        assert.ok(error instanceof BatchFormatError, `unexpected ${String(error)}`);
      }
    }
  });
});
