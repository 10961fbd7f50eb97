/**
 * The run loop on this machine's /proc with a centre that cannot be reached: events are sealed
 * into the first batch of the chain and kept for a retry with back-off; when the day's network
 * budget is spent only essential events are sealed and the rest counted as dropped.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { GENESIS_HASH, parseBatchBody, signDocument, type PolicyBody } from '../src/sensor/protocol.ts';
import { AGENT_DEFAULTS, SensorAgent } from './agent.ts';
import { SensorState, utcDay } from './state.ts';

const work = mkdtempSync(join(tmpdir(), 'tsunagi-agent-'));
after(() => rmSync(work, { recursive: true, force: true }));
const policyKey = generateKeyPairSync('ed25519');
const policy: PolicyBody = {
  version: 1,
  fields: { process: ['pid', 'exe'], socket: ['pid', 'proto', 'local', 'remote'] },
  commandLines: false,
  hashExecutables: false,
  fileContents: false,
  scanIntervalMs: 10_000,
  batchMaxEvents: 10_000,
  budgets: { cpuPercent: 1, rssMb: 80, hashMbPerS: 20, netBytesPerDay: 1000 },
};

/** A state as enrolment leaves it, for a centre on a port nothing listens on. */
function enrolledState(name: string): SensorState {
  const state = new SensorState(join(work, name));
  state.ensureDir();
  // A real certificate and key (TLS parses them before it connects); openssl only as a test tool.
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=test',
      '-keyout',
      state.path('key.pem'),
      '-out',
      state.path('cert.pem'),
    ],
    { stdio: 'ignore' },
  );
  state.write('ca.pem', state.readText('cert.pem'));
  state.write('policy-key.pem', policyKey.publicKey.export({ type: 'spki', format: 'pem' }).toString());
  state.writeJson('policy.json', signDocument(policy, policyKey.privateKey));
  state.writeJson('identity.json', {
    sensorId: 'a'.repeat(64),
    center: 'https://127.0.0.1:1',
    enrolledAt: new Date().toISOString(),
  });
  return state;
}

const options = { ...AGENT_DEFAULTS, log: () => undefined };

describe('SensorAgent', { skip: process.platform !== 'linux' && 'needs Linux /proc' }, () => {
  it('seals the first batch on the genesis hash and keeps it when the centre cannot be reached', async () => {
    const state = enrolledState('offline');
    const agent = new SensorAgent(state, options);
    await agent.tick();
    agent.close();
    const batch = parseBatchBody(Buffer.from(state.readText('inflight.ndjson')));
    assert.equal(batch.header.seq, 1);
    assert.equal(batch.header.prevHash, GENESIS_HASH);
    assert.ok(batch.events.some((e) => e.type === 'process.start' && e.pid === process.pid));
    // Only allowed fields: no ppid, user or sha256 on a process, no state on a socket.
    for (const event of batch.events) {
      if (event.type === 'process.start')
        assert.deepEqual(
          Object.keys(event).sort(),
          ['at', 'exe', 'pid', 'type'].filter((k) => k in event),
        );
      if (event.type === 'socket.open') assert.ok(!('state' in event));
    }
    const status = state.readJson<{ lastError?: string }>('status.json');
    assert.match(status?.lastError ?? '', /^send: .*retry in \d+ s$/);
    assert.equal(state.chain().seq, 0);
  });

  it("seals only essential events once the day's bytes are spent, counting the rest as dropped", async () => {
    const state = enrolledState('spent');
    state.setCounters({ day: utcDay(), sentBytesToday: 1000, droppedEvents: 0 });
    const agent = new SensorAgent(state, options);
    await agent.tick();
    agent.close();
    const batch = parseBatchBody(Buffer.from(state.readText('inflight.ndjson')));
    assert.deepEqual(
      batch.events.map((e) => e.type),
      ['sensor.status'],
    );
    const counters = state.readJson<{ droppedEvents: number }>('counters.json');
    assert.ok((counters?.droppedEvents ?? 0) > 0, 'dropped events were not counted');
  });
});
