/**
 * A ready lab: a set of emulated devices on 127.0.77.0/28 with a matching lab plan, credential
 * list and vulnerable-version table. Shared by the survey tests, the CLI test and the benchmark.
 */
import { createHash } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import {
  startDigestDevice,
  startHostileDevice,
  startHttpDevice,
  startSshDevice,
  startTelnetDevice,
  type Device,
} from './devices.ts';
import { DEFAULT_RECOG_PATH } from '../index.ts';

/** Approved known-weak pairs. Passwords are distinctive so tests can search outputs for them. */
export const LAB_CREDENTIALS = [
  'rule_id,service,username,password,vendor,model',
  'mikrotik-default,telnet,admin,mt-weak-pw,MikroTik,*',
  'hikvision-default,http,admin,hik-weak-12345,Hikvision,*',
  'dvr-default,http,admin,dvr-weak-888888,*,*',
  'xm-root,*,root,xc3511-weak,*,*',
  'generic-admin,*,admin,generic-weak-pw,*,*',
  '',
].join('\n');

export const LAB_PASSWORDS = [
  'mt-weak-pw',
  'hik-weak-12345',
  'dvr-weak-888888',
  'xc3511-weak',
  'generic-weak-pw',
];

export const LAB_VULNERABLE_CSV = [
  'vendor,model,versionMin,versionMax,fixedIn,cve,severity,cvss,summary',
  'MikroTik,*,6.29,,6.42.1,CVE-2018-14847,critical,9.1,Winbox directory traversal lets anyone read the user database',
  'ZTE,H298A,,1.1,,CVE-2099-0001,high,7.5,Example: H298A firmware up to 1.1',
  '',
].join('\n');

/** The lab's third octet: tests running at the same time use different ones. */
export const LAB_NET = 77;
export const labScope = (net = LAB_NET) => `127.0.${net}.0/28`;

/** The recog files shipped with the survey (overridable with TSUNAGI_RECOG_PATH). */
export const RECOG_DIR = process.env.TSUNAGI_RECOG_PATH ?? DEFAULT_RECOG_PATH;

export interface LabDevice {
  device: Device;
  /** What a correct survey must conclude. */
  expect: { weak: boolean; vendor?: string; model?: string; firmware?: string };
}

export interface Lab {
  dir: string;
  planPath: string;
  vulnerablePath: string;
  devices: Record<string, LabDevice>;
  stop(): Promise<void>;
}

export const LAB_PORTS = [
  { port: 2222, service: 'ssh' as const },
  { port: 2323, service: 'telnet' as const },
  { port: 8080, service: 'http' as const },
  { port: 8081, service: 'http' as const },
];

/** Writes the plan files into a fresh directory (no devices). */
export function writeLabPlan(dir: string, overrides: Record<string, unknown> = {}, net = LAB_NET): string {
  writeFileSync(join(dir, 'credentials.csv'), LAB_CREDENTIALS);
  writeFileSync(join(dir, 'optout.txt'), `# subscriber asked not to be surveyed\n127.0.${net}.8\n`);
  writeFileSync(join(dir, 'vulnerable.csv'), LAB_VULNERABLE_CSV);
  const now = Date.now();
  const plan = {
    id: 'lab-survey',
    kind: 'lab',
    organisation: { name: 'tsunagi lab', contact: 'survey@example.org' },
    staff: [{ name: 'Test Operator', role: 'survey lead' }],
    period: { start: new Date(now - 3600_000).toISOString(), end: new Date(now + 86400_000).toISOString() },
    scope: { cidrs: [labScope(net)] },
    optOut: ['optout.txt'],
    sourceAddresses: ['127.0.0.1'],
    credentials: {
      file: 'credentials.csv',
      sha256: createHash('sha256').update(LAB_CREDENTIALS).digest('hex'),
    },
    rateLimits: {
      connectionsPerSecond: 400,
      perHostIntervalMs: 5,
      maxAttemptsPerHost: 4,
      backoffMs: 20,
      concurrency: 16,
    },
    ports: LAB_PORTS,
    evidenceLog: 'evidence.jsonl',
    ...overrides,
  };
  const path = join(dir, 'plan.yaml');
  writeFileSync(path, stringify(plan));
  return path;
}

/** Starts the lab devices; `fixed` ones get a strong password, `absent` ones are not started (gone). */
export async function startLab(
  options: { fixed?: readonly string[]; absent?: readonly string[]; dir?: string; net?: number } = {},
): Promise<Lab> {
  const net = options.net ?? LAB_NET;
  const dir = options.dir ?? mkdtempSync(join(tmpdir(), 'tsunagi-lab-'));
  const planPath = writeLabPlan(dir, {}, net);
  const fixed = new Set(options.fixed ?? []);
  const pw = (name: string, weak: string) => (fixed.has(name) ? 'Str0ng-and-unique!' : weak);
  const devices: Record<string, LabDevice> = {};
  const started: Device[] = [];
  const absent = new Set(options.absent ?? []);
  const add = async (name: string, start: () => Promise<Device>, expect: LabDevice['expect']) => {
    if (absent.has(name)) return;
    const device = await start();
    started.push(device);
    devices[name] = { device, expect: fixed.has(name) ? { ...expect, weak: false } : expect };
  };
  try {
    await add(
      'mikrotik',
      () =>
        startTelnetDevice({
          host: `127.0.${net}.2`,
          port: 2323,
          banner: 'MikroTik v6.40.8 (bugfix)',
          username: 'admin',
          password: pw('mikrotik', 'mt-weak-pw'),
          shellPrompt: '[admin@MikroTik] > ',
        }),
      { weak: true, vendor: 'MikroTik', firmware: '6.40.8' },
    );
    await add(
      'zte',
      () =>
        startTelnetDevice({
          host: `127.0.${net}.3`,
          port: 2323,
          banner: 'ZXHN H298A V1.1',
          username: 'root',
          password: 'Zt3-strong-unique',
        }),
      {
        weak: false,
        vendor: 'ZTE',
        model: 'H298A',
        firmware: '1.1',
      },
    );
    await add(
      'hikvision',
      () =>
        startHttpDevice({
          host: `127.0.${net}.4`,
          port: 8080,
          realm: 'hikvision',
          username: 'admin',
          password: pw('hikvision', 'hik-weak-12345'),
        }),
      {
        weak: true,
        vendor: 'Hikvision',
      },
    );
    await add(
      'dropbear',
      () =>
        startSshDevice({
          host: `127.0.${net}.5`,
          port: 2222,
          ident: 'dropbear_2014.63',
          username: 'root',
          password: pw('dropbear', 'xc3511-weak'),
        }),
      {
        weak: true,
        firmware: '2014.63',
      },
    );
    await add(
      'dvr',
      () =>
        startDigestDevice({
          host: `127.0.${net}.6`,
          port: 8081,
          realm: 'DVR',
          username: 'admin',
          password: pw('dvr', 'dvr-weak-888888'),
        }),
      { weak: true },
    );
    await add(
      'ssh-strong',
      () =>
        startSshDevice({
          host: `127.0.${net}.7`,
          port: 2222,
          ident: 'ROSSSH',
          username: 'admin',
          password: 'very-Strong-pw-7',
        }),
      { weak: false, vendor: 'MikroTik' },
    );
    await add(
      'opted-out',
      () =>
        startTelnetDevice({
          host: `127.0.${net}.8`,
          port: 2323,
          banner: 'MikroTik v6.40.8 (bugfix)',
          username: 'admin',
          password: 'mt-weak-pw',
        }),
      { weak: false },
    );
    await add(
      'loop',
      () => startHostileDevice({ host: `127.0.${net}.9`, port: 2323, mode: 'negotiation-loop' }),
      {
        weak: false,
      },
    );
    await add(
      'huge',
      () => startHostileDevice({ host: `127.0.${net}.10`, port: 8080, mode: 'huge-header' }),
      {
        weak: false,
      },
    );
    await add('silent', () => startHostileDevice({ host: `127.0.${net}.11`, port: 2323, mode: 'silent' }), {
      weak: false,
    });
  } catch (error) {
    await Promise.all(started.map((d) => d.stop()));
    throw error;
  }
  return {
    dir,
    planPath,
    vulnerablePath: join(dir, 'vulnerable.csv'),
    devices,
    stop: async () => {
      await Promise.all(started.map((d) => d.stop()));
    },
  };
}
