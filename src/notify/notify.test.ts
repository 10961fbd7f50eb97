/** Routing, per-ISP reports, letters and remediation tracking over hand-made findings. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { Registry } from 'prom-client';
import { silentLogger } from '../core/index.ts';
import type { Finding } from './types.ts';
import { createNotify, deviceKind, NotifyConfig, Routing } from './index.ts';
import { csvCell } from './report.ts';

const ROUTING = new URL('./testdata/routing.yaml', import.meta.url).pathname;

function finding(ip: string, over: Partial<Finding> = {}): Finding {
  // As the survey writes it, fingerprints and all: notify reads only the fields it names.
  const surveyed = {
    survey: 's1',
    time: '2025-06-03T01:02:03.000Z',
    ip,
    port: 23,
    service: 'telnet',
    banner: 'MikroTik v6.40.8 (bugfix)\\nLogin:',
    fingerprints: ['telnet_banners#7'],
    weakCredential: { accepted: true, rule: 'mikrotik-default' },
    cves: [],
    severity: 'critical',
    status: 'weak-credential',
    vendor: 'MikroTik',
    firmware: '6.40.8',
    deviceType: 'Router',
  } as const;
  return { ...surveyed, ...over };
}

async function notifier() {
  const registry = new Registry();
  const notify = createNotify(
    NotifyConfig.parse({ routing: ROUTING, sender: 'Lab Survey', senderContact: 'survey@example.org' }),
    { logger: silentLogger(), registry },
  );
  await notify.start();
  return { notify, registry };
}

describe('notify', () => {
  test('routing: longest prefix wins, then origin AS, then a direct ISP row', () => {
    const routing = Routing.load(ROUTING);
    assert.equal(routing.route('127.0.77.2')?.isp.id, 'isp-a');
    assert.equal(routing.route('127.0.77.2')?.asn, 64500);
    assert.equal(routing.route('127.0.77.5')?.isp.id, 'isp-b');
    assert.equal(routing.route('127.0.77.6')?.isp.id, 'isp-a');
    assert.equal(routing.route('127.0.99.1'), undefined);
    assert.equal(routing.maker('mikrotik')?.contact, 'security@mikrotik.example');
    assert.equal(routing.integrator('127.0.77.2')?.name, 'Example SIer');
    assert.throws(
      () =>
        new Routing({
          isps: [{ id: 'a', name: 'A', contact: 'c', asns: [1], rentsDevices: false }],
          prefixes: [{ prefix: '1.0.0.0/8', isp: 'zz' }],
          makers: [],
          integrators: [],
        }),
      /unknown ISP zz/,
    );
  });

  test('per-ISP reports hold only their own findings, worst first, with maker and integrator', async () => {
    const { notify, registry } = await notifier();
    const findings = [
      finding('127.0.77.2'),
      finding('127.0.77.3', {
        status: 'vulnerable-firmware',
        severity: 'high',
        weakCredential: null,
        cves: [{ cve: 'CVE-2018-14847', severity: 'high' }],
      }),
      finding('127.0.77.5', { vendor: 'Hikvision', deviceType: 'DVR', service: 'http', port: 8080 }),
      finding('127.0.77.9', { status: 'exposed', weakCredential: null, severity: 'none' }),
      finding('127.0.99.1'),
    ];
    const reports = notify.reports(findings);
    assert.deepEqual([...reports.keys()].sort(), ['isp-a', 'isp-b']);
    const a = reports.get('isp-a')!;
    assert.deepEqual(
      a.rows.map((r) => r.ip),
      ['127.0.77.2', '127.0.77.3'],
    );
    assert.equal(a.rows[0]!.maker_contact, 'MikroTik PSIRT <security@mikrotik.example>');
    assert.equal(a.rows[0]!.integrator, 'Example SIer <support@sier.example>');
    assert.equal(a.rows[1]!.cve, 'CVE-2018-14847');
    const lines = a.csv.trim().split('\n');
    assert.equal(
      lines[0],
      'timestamp,ip,protocol,port,asn,tag,severity,device_vendor,device_type,device_model,device_version,cpe,cve,rule,maker_contact,integrator,banner',
    );
    assert.match(
      lines[1]!,
      /^2025-06-03T01:02:03.000Z,127\.0\.77\.2,tcp,23,64500,weak-credential;telnet,critical,MikroTik,Router,,6\.40\.8,,,mikrotik-default,/,
    );
    assert.equal(reports.get('isp-b')!.rows[0]!.device_vendor, 'Hikvision');
    assert.match(await registry.metrics(), /tsunagi_notify_findings_total\{routed="no"\} 1/);
  });

  test('CSV cells are quoted and cannot become spreadsheet formulas', () => {
    assert.equal(csvCell('a,b'), '"a,b"');
    assert.equal(csvCell('say "hi"'), '"say ""hi"""');
    assert.equal(csvCell('=HYPERLINK("x")'), `"'=HYPERLINK(""x"")"`);
    assert.equal(csvCell('-1'), "'-1");
  });

  test('letters: Japanese and English, per device type, with concrete steps and no secrets', async () => {
    const { notify } = await notifier();
    const findings = [
      finding('127.0.77.2'),
      finding('127.0.77.5', {
        vendor: 'Hikvision',
        deviceType: 'DVR',
        service: 'http',
        port: 8080,
        cves: [{ cve: 'CVE-2017-7921', severity: 'critical' }],
      }),
    ];
    const ja = notify.letters(findings, 'ja');
    assert.equal(ja.length, 2);
    assert.equal(ja[0]!.kind, 'router');
    assert.match(ja[0]!.subject, /【重要】.*127\.0\.77\.2/);
    assert.match(ja[0]!.body, /例ネットA/);
    assert.match(ja[0]!.body, /管理者パスワードを初期値から/);
    assert.match(ja[0]!.body, /当社がレンタルしている機器/);
    assert.match(ja[0]!.body, /MikroTik PSIRT/);
    assert.equal(ja[1]!.kind, 'camera');
    assert.match(ja[1]!.body, /ポート開放/);
    assert.match(ja[1]!.body, /CVE-2017-7921/);
    const en = notify.letters(findings, 'en');
    assert.match(en[0]!.body, /^Dear customer/);
    assert.match(en[0]!.body, /Turn off remote administration from the Internet/);
    assert.ok(!en[1]!.body.includes('rented from us'), 'isp-b does not rent devices');
    for (const l of [...ja, ...en]) assert.ok(!/mikrotik-default|password:/i.test(l.body));
    assert.equal(deviceKind('IP Camera'), 'camera');
    assert.equal(deviceKind('NAS'), 'nas');
    assert.equal(deviceKind(undefined), 'other');
  });
});

describe('notify', () => {
  test('remediation tracking: fixed, still vulnerable, gone, and monthly statistics', async () => {
    const { notify } = await notifier();
    const june = [
      finding('127.0.77.2'),
      finding('127.0.77.3'),
      finding('127.0.77.4'),
      finding('127.0.77.5'),
      finding('127.0.77.5', { port: 22, service: 'ssh', status: 'exposed', weakCredential: null }),
    ];
    const july = [
      finding('127.0.77.2', { time: '2025-07-02T00:00:00.000Z', status: 'exposed', weakCredential: null }),
      finding('127.0.77.3', { time: '2025-07-02T00:00:00.000Z' }),
      // .4 answered nothing; .5 closed telnet but still answers SSH.
      finding('127.0.77.5', {
        time: '2025-07-02T00:00:00.000Z',
        port: 22,
        service: 'ssh',
        status: 'exposed',
        weakCredential: null,
      }),
    ];
    assert.deepEqual(
      notify.track(june, july).map((t) => `${t.ip}:${t.port}=${t.state}`),
      ['127.0.77.2:23=fixed', '127.0.77.3:23=still-vulnerable', '127.0.77.4:23=gone', '127.0.77.5:23=fixed'],
    );
    const stats = notify.monthly([{ findings: june }, { findings: july }]);
    assert.deepEqual(stats[0], {
      month: '2025-06',
      vulnerableHosts: 4,
      weakCredentialHosts: 4,
      vulnerableFirmwareHosts: 0,
      fixed: 0,
      stillVulnerable: 0,
      gone: 0,
      remediationRate: null,
    });
    assert.deepEqual(stats[1], {
      month: '2025-07',
      vulnerableHosts: 1,
      weakCredentialHosts: 1,
      vulnerableFirmwareHosts: 0,
      fixed: 2,
      stillVulnerable: 1,
      gone: 1,
      remediationRate: 0.5,
    });
  });

  test('a malformed routing file is a clear input error', () => {
    assert.throws(() => Routing.load('/nonexistent/routing.yaml'), /cannot read routing file/);
  });
});
