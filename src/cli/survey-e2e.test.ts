/**
 * End to end through the CLI: survey the lab, write an ISP report and letters, fix a device,
 * re-survey, and count it remediated. Also: a refused plan exits 2 before any packet.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { parse, stringify } from 'yaml';
import { busyboxPath, LAB_PASSWORDS, RECOG_DIR, startLab } from '../survey/testing.ts';
import { main } from './main.ts';

const ROUTING = new URL('../notify/testdata/routing.yaml', import.meta.url).pathname;

async function cli(args: string[]) {
  let stdout = '';
  let stderr = '';
  const sink = (append: (s: string) => void) =>
    new Writable({
      write(chunk, _enc, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await main(args, {
    stdout: sink((s) => (stdout += s)),
    stderr: sink((s) => (stderr += s)),
    env: { TSUNAGI_SURVEY__READ_TIMEOUT_MS: '1500', TSUNAGI_SURVEY__IDLE_MS: '300' },
    interactive: false,
  });
  return { code, stdout, stderr };
}

/** The June survey as a CSV and JSON report per ISP and as letters, none of it carrying a lab password. */
async function reportAndWriteLetters(dir: string, june: string): Promise<void> {
  const report = await cli(['survey', 'report', '--isp', 'isp-a', '--findings', june, '--routing', ROUTING]);
  assert.equal(report.code, 0, report.stderr);
  const rows = report.stdout.trim().split('\n');
  assert.match(rows[0]!, /^timestamp,ip,protocol,port,asn,tag/);
  assert.ok(
    rows.some((r) => r.includes('127.0.77.2,tcp,2323,64500,weak-credential;telnet,critical,MikroTik')),
  );
  assert.ok(!rows.some((r) => r.includes('127.0.77.5,')), 'isp-b rows stay out of isp-a');
  const json = await cli([
    'survey',
    'report',
    '--isp',
    'isp-b',
    '--findings',
    june,
    '--routing',
    ROUTING,
    '--format',
    'json',
  ]);
  assert.equal(JSON.parse(json.stdout).isp.id, 'isp-b');

  const letters = await cli([
    'notify',
    'letters',
    '--lang',
    'ja',
    '--findings',
    june,
    '--routing',
    ROUTING,
    '--out-dir',
    join(dir, 'letters'),
  ]);
  assert.equal(letters.code, 0, letters.stderr);
  const jaFiles = readdirSync(join(dir, 'letters', 'isp-a'));
  assert.ok(jaFiles.includes('127.0.77.2.ja.txt'), jaFiles.join(','));
  const letter = readFileSync(join(dir, 'letters', 'isp-a', '127.0.77.2.ja.txt'), 'utf8');
  assert.match(letter, /MikroTik/);
  assert.match(letter, /CVE-2018-14847/);
  const en = await cli(['notify', 'letters', '--lang', 'en', '--findings', june, '--routing', ROUTING]);
  assert.match(en.stdout, /Dear customer/);

  const everything =
    readFileSync(june, 'utf8') +
    readFileSync(join(dir, 'evidence.jsonl'), 'utf8') +
    report.stdout +
    letter +
    en.stdout;
  for (const pw of LAB_PASSWORDS) assert.ok(!everything.includes(pw), pw);
}

describe(
  'survey and notify through the CLI',
  { skip: !busyboxPath() && 'busybox is not installed (apt-get install -y busybox-static)' },
  () => {
    test('survey, report, letters, fix, re-survey, remediation counted', async () => {
      let lab = await startLab();
      const dir = lab.dir;
      const june = join(dir, 'june.jsonl');
      const july = join(dir, 'july.jsonl');
      try {
        const run = await cli([
          'survey',
          'run',
          '--plan',
          lab.planPath,
          '--out',
          june,
          '--recog',
          RECOG_DIR,
          '--vulnerable',
          lab.vulnerablePath,
        ]);
        assert.equal(run.code, 0, run.stderr);
        assert.match(run.stderr, /\[#+\] 100% 16\/16 hosts, 5 vulnerable/);
        assert.match(run.stderr, /logins accepted 4\//);
        assert.equal(readFileSync(`${june}.state`, 'utf8').trim().split('\n').length, 15);

        await reportAndWriteLetters(dir, june);

        // Two subscribers change their passwords, one device disappears; the re-survey counts it.
        await lab.stop();
        lab = await startLab({ dir, fixed: ['hikvision', 'dropbear'], absent: ['dvr'] });
        const again = await cli([
          'survey',
          'run',
          '--plan',
          lab.planPath,
          '--out',
          july,
          '--recog',
          RECOG_DIR,
          '--vulnerable',
          lab.vulnerablePath,
        ]);
        assert.equal(again.code, 0, again.stderr);
        const track = await cli(['survey', 'track', '--findings', june, july]);
        assert.equal(track.code, 0, track.stderr);
        const result = JSON.parse(track.stdout) as {
          tracked: { ip: string; state: string }[];
          monthly: { fixed: number; stillVulnerable: number; gone: number }[];
        };
        assert.deepEqual(
          result.tracked.map((t) => `${t.ip}=${t.state}`),
          [
            '127.0.77.2=still-vulnerable',
            '127.0.77.3=still-vulnerable',
            '127.0.77.4=fixed',
            '127.0.77.5=fixed',
            '127.0.77.6=gone',
          ],
        );
        assert.deepEqual(
          { ...result.monthly[1], month: undefined, remediationRate: undefined },
          {
            month: undefined,
            remediationRate: undefined,
            vulnerableHosts: 2,
            weakCredentialHosts: 1,
            vulnerableFirmwareHosts: 1,
            fixed: 2,
            stillVulnerable: 2,
            gone: 1,
          },
        );
        assert.equal(result.monthly.length, 2);
      } finally {
        await lab.stop();
      }
    });

    test('a plan with a tampered credential list exits 2 and writes no evidence', async () => {
      const lab = await startLab();
      try {
        const plan = parse(readFileSync(lab.planPath, 'utf8')) as Record<string, unknown>;
        (plan.credentials as { sha256: string }).sha256 = '0'.repeat(64);
        writeFileSync(lab.planPath, stringify(plan));
        const run = await cli(['survey', 'run', '--plan', lab.planPath, '--recog', RECOG_DIR]);
        assert.equal(run.code, 2);
        assert.match(run.stderr, /not the approved one/);
        assert.ok(!existsSync(join(lab.dir, 'evidence.jsonl')));
        assert.deepEqual(lab.devices.mikrotik!.device.records(), []);
        const outside = await cli([
          'survey',
          'run',
          '--plan',
          lab.planPath.replace('plan.yaml', 'missing.yaml'),
        ]);
        assert.equal(outside.code, 2);
      } finally {
        await lab.stop();
      }
    });

    test('an interrupted run resumes: addresses in the state file are not touched again', async () => {
      const lab = await startLab({ net: 73 });
      try {
        const out = join(lab.dir, 'findings.jsonl');
        // As if the first run had finished .0 to .4 (and written .2's finding) before it stopped.
        writeFileSync(`${out}.state`, ['0', '1', '2', '3', '4'].map((n) => `127.0.73.${n}\n`).join(''));
        writeFileSync(out, '{"earlier":"line kept"}\n');
        const run = await cli(['survey', 'run', '--plan', lab.planPath, '--out', out, '--recog', RECOG_DIR]);
        assert.equal(run.code, 0, run.stderr);
        assert.deepEqual(lab.devices.mikrotik!.device.records(), []);
        assert.deepEqual(lab.devices.zte!.device.records(), []);
        assert.ok(lab.devices.dropbear!.device.records().includes('LOGIN_OK root'));
        const lines = readFileSync(out, 'utf8').trim().split('\n');
        assert.equal(lines[0], '{"earlier":"line kept"}');
        assert.ok(!lines.some((l) => l.includes('"127.0.73.2"')));
        assert.equal(readFileSync(`${out}.state`, 'utf8').trim().split('\n').length, 15);
        const evidence = readFileSync(join(lab.dir, 'evidence.jsonl'), 'utf8');
        assert.ok(!evidence.includes('"127.0.73.3"'));
      } finally {
        await lab.stop();
      }
    });
  },
);
