/** Guardrails that hold before any packet: scope, public ranges, period, credential hash, opt-out. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { inspect } from 'node:util';
import { parse } from 'yaml';
import { UsageError } from '../core/index.ts';
import { writeLabPlan, LAB_PASSWORDS } from './harness/lab.ts';
import { authorisePlan, loadPlan } from './plan.ts';

function labPlan(overrides: Record<string, unknown> = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-plan-'));
  const path = writeLabPlan(dir, overrides);
  return { dir, path, raw: parse(readFileSync(path, 'utf8')) as Record<string, unknown> };
}

describe('survey plan', () => {
  test('a good lab plan is authorised with its credentials, ports and opt-out', () => {
    const { path } = labPlan();
    const plan = loadPlan(path);
    assert.equal(plan.credentials.length, 5);
    assert.equal(plan.ports.length, 4);
    assert.deepEqual(plan.scope.check('127.0.77.2'), { ok: true });
    assert.deepEqual(plan.scope.check('127.0.77.8'), { ok: false, reason: 'opt-out' });
    assert.deepEqual(plan.scope.check('127.0.78.1'), { ok: false, reason: 'out-of-scope' });
    assert.deepEqual(plan.scope.check('not-an-ip'), { ok: false, reason: 'invalid-address' });
    assert.equal([...plan.scope.addresses()].length, 16);
  });

  test('a credential list whose hash differs from the approved one is refused', () => {
    const { path, dir } = labPlan();
    writeFileSync(
      join(dir, 'credentials.csv'),
      `${readFileSync(join(dir, 'credentials.csv'), 'utf8')}extra,telnet,root,root,*,*\n`,
    );
    assert.throws(
      () => loadPlan(path),
      (e: Error) => e instanceof UsageError && /not the approved one/.test(e.message),
    );
  });

  test('passwords never show in a serialised credential', () => {
    const { path } = labPlan();
    const credentials = loadPlan(path).credentials;
    const text =
      JSON.stringify(credentials) +
      inspect(credentials, { showHidden: true, depth: 5 }) +
      credentials.map(String).join();
    for (const pw of LAB_PASSWORDS) assert.ok(!text.includes(pw), pw);
    assert.match(text, /mikrotik-default/);
  });

  test('a public plan refuses private, loopback and documentation ranges', () => {
    for (const cidr of [
      '127.0.77.0/28',
      '10.1.0.0/16',
      '192.168.1.1',
      '0.0.0.0/0',
      '100.64.0.0/10',
      'fe80::1',
    ]) {
      const { raw, dir } = labPlan();
      raw.kind = 'public';
      raw.scope = { cidrs: [cidr] };
      assert.throws(() => authorisePlan(raw, { baseDir: dir }), /special-purpose range|IPv6 scope/, cidr);
    }
    const { raw, dir } = labPlan();
    raw.kind = 'public';
    raw.scope = { cidrs: ['8.8.8.0/30'] };
    const plan = authorisePlan(raw, { baseDir: dir });
    // A public plan checks each address too, not only the scope.
    assert.deepEqual(plan.scope.check('127.0.0.1'), { ok: false, reason: 'special-range' });
  });

  test('a plan without scope, outside its period, or binding an unpublished address is refused', () => {
    const { raw, dir } = labPlan();
    assert.throws(() => authorisePlan({ ...raw, scope: { cidrs: [] } }, { baseDir: dir }), /no scope/);
    assert.throws(
      () => authorisePlan(raw, { baseDir: dir, now: new Date(Date.now() + 10 * 86400_000) }),
      /authorised from/,
    );
    assert.throws(
      () => authorisePlan({ ...raw, bindAddress: '127.0.0.9' }, { baseDir: dir }),
      /not one of the published/,
    );
    assert.throws(
      () =>
        authorisePlan({ ...raw, scope: { cidrs: ['127.0.0.0/8'], maxAddresses: 1000 } }, { baseDir: dir }),
      /more than scope.maxAddresses/,
    );
    assert.throws(() => authorisePlan({ ...raw, ports: [9999] }, { baseDir: dir }), /no default service/);
    assert.throws(() => authorisePlan({ ...raw, surprise: 1 }, { baseDir: dir }), /invalid survey plan/);
  });

  test('ASN scope resolves through the routing table', () => {
    const { raw, dir } = labPlan();
    writeFileSync(join(dir, 'asn.csv'), 'prefix,asn\n127.0.77.0/29,64500\n127.0.78.0/24,64501\n');
    const plan = authorisePlan({ ...raw, scope: { asns: [64500], asnTable: 'asn.csv' } }, { baseDir: dir });
    assert.ok(plan.scope.check('127.0.77.3').ok);
    assert.ok(!plan.scope.check('127.0.78.3').ok);
    assert.throws(
      () => authorisePlan({ ...raw, scope: { asns: [64999], asnTable: 'asn.csv' } }, { baseDir: dir }),
      /no prefix for AS 64999/,
    );
  });
});
