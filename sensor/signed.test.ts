import assert from 'node:assert/strict';
import { generateKeyPairSync } from 'node:crypto';
import { describe, it } from 'node:test';
import { IocListBody, PolicyBody, signDocument } from '../src/sensor/protocol.ts';
import { adoptSigned } from './signed.ts';
import { applyAllowList } from './policy.ts';

const centre = generateKeyPairSync('ed25519');
const stranger = generateKeyPairSync('ed25519');
const pinned = centre.publicKey.export({ type: 'spki', format: 'pem' }).toString();
const policy: PolicyBody = {
  version: 2,
  fields: { process: ['pid', 'exe'], socket: ['pid', 'remote'] },
  commandLines: false,
  hashExecutables: true,
  fileContents: false,
  scanIntervalMs: 10_000,
  batchMaxEvents: 500,
  budgets: { cpuPercent: 1, rssMb: 80, hashMbPerS: 20, netBytesPerDay: 10_485_760 },
};

describe('signed policies and IoC lists', () => {
  it('adopts a document signed by the pinned key', () => {
    const adopted = adoptSigned(signDocument(policy, centre.privateKey), pinned, PolicyBody, 1);
    assert.deepEqual(adopted, { adopted: true, body: policy });
  });

  it('refuses unsigned, badly signed, foreign-signed and older documents', () => {
    const good = signDocument(policy, centre.privateKey);
    const cases: [string, unknown, number][] = [
      ['unsigned', { body: good.body }, 0],
      ['bad signature', { ...good, body: good.body.replace('"version":2', '"version":9') }, 0],
      ['another key', signDocument(policy, stranger.privateKey), 0],
      ['older', good, 3],
      [
        'not a policy',
        signDocument({ version: 5, sha256: [], ipPorts: [], domains: [] }, centre.privateKey),
        0,
      ],
      ['garbage', 'not json at all', 0],
    ];
    for (const [name, document, current] of cases) {
      const result = adoptSigned(document, pinned, PolicyBody, current);
      assert.equal(result.adopted, false, name);
    }
    const list = signDocument(
      { version: 1, sha256: [], ipPorts: ['192.0.2.1:443'], domains: ['evil.example'] },
      centre.privateKey,
    );
    assert.equal(adoptSigned(list, pinned, IocListBody, 0).adopted, true);
  });

  it('sends only the fields the policy allows, keeping what names the event', () => {
    const start = applyAllowList(
      {
        type: 'process.start',
        at: 1,
        pid: 5,
        ppid: 1,
        exe: '/bin/x',
        sha256: 'f'.repeat(64),
        user: 'u',
        startedAt: 2,
      },
      policy,
    );
    assert.deepEqual(start, { type: 'process.start', at: 1, pid: 5, exe: '/bin/x' });
    const open = applyAllowList(
      {
        type: 'socket.open',
        at: 1,
        pid: 5,
        proto: 'tcp',
        local: '10.0.0.1:1',
        remote: '192.0.2.1:443',
        state: 'ESTABLISHED',
      },
      { ...policy, fields: { process: [], socket: [] } },
    );
    assert.deepEqual(open, {
      type: 'socket.open',
      at: 1,
      proto: 'tcp',
      local: '10.0.0.1:1',
      remote: '192.0.2.1:443',
    });
    const match = {
      type: 'ioc.match',
      at: 1,
      ioc: '192.0.2.1:443',
      kind: 'ip-port',
      pid: 5,
      exe: '/bin/x',
    } as const;
    assert.deepEqual(applyAllowList(match, policy), match);
  });
});
