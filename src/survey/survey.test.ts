/** The survey over the emulated-device lab: finds every weak device and no strong one, within the law's rules. */
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import { SurveyConfig } from './config.ts';
import { busyboxPath } from './harness/devices.ts';
import { LAB_PASSWORDS, RECOG_DIR, startLab, type Lab } from './harness/lab.ts';
import { createSurvey, loadPlan, type Finding, type SurveySummary } from './index.ts';

/** Its own addresses, so it can run beside the CLI test. */
const NET = 76;
const ip = (n: number) => `127.0.${NET}.${n}`;

const noBusybox = !busyboxPath() && 'busybox is not installed (apt-get install -y busybox-static)';

let lab: Lab;
let findings: Finding[] = [];
let summary: SurveySummary;
let evidence = '';
let optedOutBefore: string[] = [];
const registry = new Registry();
const config = SurveyConfig.parse({
  recogPath: RECOG_DIR,
  readTimeoutMs: 1500,
  idleMs: 300,
  connectTimeoutMs: 1000,
});

before(async () => {
  lab = await startLab({ net: NET });
  optedOutBefore = lab.devices['opted-out']!.device.records();
  const survey = createSurvey(
    { ...config, vulnerableTable: lab.vulnerablePath },
    { logger: silentLogger(), registry },
  );
  await survey.start();
  summary = await survey.run(loadPlan(lab.planPath), { onHost: (h) => findings.push(...h.findings) });
  findings = findings.sort((a, b) => a.ip.localeCompare(b.ip));
  evidence = readFileSync(`${lab.dir}/evidence.jsonl`, 'utf8');
  // Let device-side processes notice the disconnects before the records are read.
  await new Promise((r) => setTimeout(r, 300));
});
after(async () => {
  await lab?.stop();
});

const byIp = (ip: string) => findings.filter((f) => f.ip === ip);

describe('survey over the device lab', { skip: noBusybox }, () => {
  test('every weak device is found and no strong one', () => {
    for (const [name, { device, expect }] of Object.entries(lab.devices)) {
      const weak = byIp(device.host).some((f) => f.status === 'weak-credential');
      assert.equal(weak, expect.weak, name);
    }
    assert.equal(summary.loginAttempts.accepted, 4);
  });

  test('models and firmware are identified through recog', () => {
    for (const [name, { device, expect }] of Object.entries(lab.devices)) {
      const f = byIp(device.host)[0];
      if (expect.vendor) assert.equal(f?.vendor, expect.vendor, name);
      if (expect.model) assert.equal(f?.model, expect.model, name);
      if (expect.firmware) assert.equal(f?.firmware, expect.firmware, name);
    }
    const mikrotik = byIp(ip(2))[0]!;
    assert.equal(mikrotik.cpe, 'cpe:/o:mikrotik:routeros:6.40.8');
    assert.ok(mikrotik.fingerprints[0]?.startsWith('telnet_banners#'));
  });

  test('firmware is checked against the vulnerable-version table', () => {
    assert.deepEqual(
      byIp(ip(2))[0]!.cves.map((c) => c.cve),
      ['CVE-2018-14847'],
    );
    const zte = byIp(ip(3))[0]!;
    assert.equal(zte.status, 'vulnerable-firmware');
    assert.equal(zte.severity, 'high');
  });

  test('vendor defaults are tried first: each weak device opened on its own vendor rule', () => {
    const rule = (ip: string) => byIp(ip).find((f) => f.weakCredential)?.weakCredential?.rule;
    assert.equal(rule(ip(2)), 'mikrotik-default');
    assert.equal(rule(ip(4)), 'hikvision-default');
    assert.equal(rule(ip(6)), 'dvr-default');
    // The Hikvision device saw exactly one login: its vendor default, first.
    const logins = evidence
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as { destination: string; action: string; rule: string })
      .filter((e) => e.destination === ip(4) && e.action === 'login');
    assert.deepEqual(
      logins.map((l) => l.rule),
      ['hikvision-default'],
    );
  });

  test('after a successful login the scanner disconnects at once and sends no command', () => {
    const telnet = lab.devices.mikrotik!.device.records();
    assert.ok(telnet.includes('LOGIN_OK admin'));
    assert.deepEqual(
      telnet.filter((l) => l.startsWith('CMD')),
      [],
    );
    const ssh = lab.devices.dropbear!.device.records();
    assert.ok(ssh.includes('LOGIN_OK root'));
    assert.ok(
      !ssh.some((l) => l === 'SESSION' || l === 'SHELL' || l.startsWith('CMD') || l.startsWith('REQUEST')),
      ssh.join('|'),
    );
    assert.equal(ssh.at(-1), 'DISCONNECT');
    const http = lab.devices.hikvision!.device.records().filter((l) => l.includes('url:'));
    assert.ok(
      http.every((l) => l.endsWith('url:/')),
      http.join('|'),
    );
    assert.deepEqual(lab.devices.dvr!.device.records(), ['GET / NO_AUTH', 'GET / AUTH_OK']);
  });

  test('at most maxAttemptsPerHost logins per host', () => {
    const attempts = new Map<string, number>();
    for (const line of evidence.split('\n').filter(Boolean)) {
      const e = JSON.parse(line) as { destination: string; action: string };
      if (e.action === 'login') attempts.set(e.destination, (attempts.get(e.destination) ?? 0) + 1);
    }
    for (const n of attempts.values()) assert.ok(n <= 4);
    assert.equal(lab.devices.zte!.device.records().filter((l) => l.startsWith('LOGIN_FAIL')).length, 3);
  });

  test('the opted-out device is never touched', () => {
    assert.deepEqual(optedOutBefore, []);
    assert.deepEqual(lab.devices['opted-out']!.device.records(), []);
    assert.equal(summary.optedOut, 1);
    assert.ok(!evidence.includes('"127.0.76.8"'));
  });

  test('no password appears in findings or evidence', () => {
    const out = JSON.stringify(findings) + evidence + registry.getMetricsAsArray().join('');
    for (const pw of LAB_PASSWORDS) assert.ok(!out.includes(pw), pw);
  });

  test('every attempt is in the evidence log with source, destination, port, time and rule', () => {
    const lines = evidence
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l) as Record<string, unknown>);
    assert.ok(lines.length >= summary.connections);
    for (const l of lines) {
      assert.equal(l.source, '127.0.0.1');
      assert.equal(typeof l.destination, 'string');
      assert.equal(typeof l.port, 'number');
      assert.ok(!Number.isNaN(Date.parse(String(l.time))));
      assert.match(String(l.rule), /^(discover:|[a-z])/);
    }
  });

  test('hostile devices are cut off, marked, and cannot hang the survey', () => {
    assert.match(byIp(ip(9))[0]?.hostile ?? '', /negotiation loop/);
    assert.match(byIp(ip(10))[0]?.hostile ?? '', /byte bound/);
    assert.equal(byIp(ip(11))[0]?.status, 'exposed');
  });

  test('metrics count connections and logins', async () => {
    const text = await registry.metrics();
    assert.match(text, /tsunagi_survey_login_attempts_total\{outcome="accepted"\} 4/);
    assert.match(text, /tsunagi_survey_hosts_total 15/);
  });

  test('an out-of-scope target refuses the whole run before any packet', async () => {
    const survey = createSurvey({ ...config }, { logger: silentLogger(), registry: new Registry() });
    await survey.start();
    const before = lab.devices.mikrotik!.device.records().length;
    await assert.rejects(
      survey.run(loadPlan(lab.planPath), { targets: [ip(2), '127.0.78.1'] }),
      /outside the plan's authorised scope: 127\.0\.78\.1 \(out-of-scope\)/,
    );
    await assert.rejects(survey.run(loadPlan(lab.planPath), { targets: [ip(8)] }), /opt-out/);
    assert.equal(lab.devices.mikrotik!.device.records().length, before);
    const last = readFileSync(`${lab.dir}/evidence.jsonl`, 'utf8').trim().split('\n').at(-1)!;
    assert.equal(JSON.parse(last).action, 'refused');
  });
});
