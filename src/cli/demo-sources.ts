/**
 * What `tsunagi demo` adds beside the replayed flows so every section of a daily report has data,
 * each through the room that owns the path in a real deployment: phishing URLs scored by the web
 * room's fitted model and stored in its tables, the malicious verdicts recorded in intel by its
 * web intake (family: the brand imitated); and survey findings of the demo ISP's devices
 * recorded by intel's survey intake, as `tsunagi import-findings` records a survey's output.
 * The inputs are generated from the seed; what becomes of them is the rooms' decision.
 */
import type { Kysely } from 'kysely';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/index.ts';
import { recordSurveyFindings, recordWebVerdicts, type Intel } from '../intel/index.ts';
import type { Store } from '../store/index.ts';
import { createWeb, WebConfig, type WebTables, withWholeHost } from '../web/index.ts';

/** Brands phished in Japan (the web room's lexicon keys) and the first word of their lookalikes. */
const PHISHED = [
  ['smbc', 'smbc-card'],
  ['amazon', 'amazon'],
  ['rakuten', 'rakuten'],
  ['aeon', 'aeon-card'],
  ['mercari', 'mercari'],
  ['sagawa', 'sagawa'],
  ['yamato', 'yamato'],
  ['docomo', 'docomo'],
] as const;
const PATTERNS = [
  (w: string, n: number) => `https://${w}-account-verify${n}.top/login`,
  (w: string, n: number) => `https://secure-${w}.co.jp-support${n}.icu/signin`,
  (w: string, n: number) => `http://${w}${n}-card-update.xyz/confirm`,
];
/** Harmless names beside them: the model must leave these out of intel. */
const BENIGN = ['https://www.smbc-card.com/', 'https://www.amazon.co.jp/', 'https://www.rakuten.co.jp/'];

/** Lookalike URLs of the phished brands, more for the first brands (what a feed of a day holds). */
export function demoPhishingUrls(seed: number): string[] {
  const urls: string[] = [];
  PHISHED.forEach(([word], b) => {
    const count = Math.max(1, 6 - b);
    for (let i = 0; i < count; i++) urls.push(PATTERNS[(i + b) % PATTERNS.length]!(word, seed * 100 + i));
  });
  return [...urls, ...BENIGN];
}

/**
 * The destination ports a darknet sensor records for the scenario's bots, by family: IoT botnets
 * scan telnet, SSH and web admin ports (what NICTER reports most), so the daily report's port
 * surge table has rows. The scenario generates flows, not darknet packets: these stand for what
 * the sensor would have recorded of the same hosts.
 */
const SCANNED_PORTS: readonly (readonly number[])[] = [[23, 2323], [22, 23], [80, 8080, 37215], [5555], [23]];

export function demoScannedPorts(family: string | undefined): number[] {
  const index = family?.startsWith('family-') ? family.charCodeAt(7) - 97 : -1;
  return [...(SCANNED_PORTS[index] ?? SCANNED_PORTS[SCANNED_PORTS.length - 1]!)];
}

/** IoT products the demo's survey finds, each with its real CVE or the weak-credential rule. */
const PRODUCTS = [
  { vendor: 'Hikvision', model: 'DS-2CD2032-I', firmware: 'V5.4.0', port: 80, cve: 'CVE-2017-7921' },
  { vendor: 'MikroTik', model: 'RouterOS', firmware: '6.40.7', port: 8291, cve: 'CVE-2018-14847' },
  { vendor: 'Dahua', model: 'IPC-HDW1230S', firmware: '2.800.0000000.7', port: 80, cve: 'CVE-2021-33044' },
  { vendor: 'TP-Link', model: 'TL-WR841N', firmware: '0.9.1 4.16', port: 80, cve: 'CVE-2023-33538' },
  { vendor: 'BusyBox', model: 'telnetd', firmware: '', port: 23, cve: '' },
] as const;

/** Survey findings in the demo ISP's subscriber space (198.18.0.0/15), deterministic per seed. */
export function demoSurveyFindings(seed: number) {
  const findings = [];
  for (let i = 0; i < 24; i++) {
    const product = PRODUCTS[i % PRODUCTS.length]!;
    const weak = product.cve === '';
    findings.push({
      ip: `198.18.${(seed * 7 + 200 + i) % 256}.${((seed * 13 + 17 * i) % 250) + 2}`,
      port: product.port,
      status: weak ? 'weak-credential' : 'vulnerable-firmware',
      vendor: product.vendor,
      model: product.model,
      ...(product.firmware ? { firmware: product.firmware } : {}),
      service: product.port === 23 ? 'telnet' : 'http',
      cves: product.cve ? [{ cve: product.cve }] : [],
      weakCredential: weak ? { rule: 'mirai-default-credentials' } : null,
    });
  }
  return findings;
}

export interface DemoSourcesResult {
  phishingUrls: number;
  phishingRecorded: number;
  surveyFindings: number;
}

export async function recordDemoSources(
  stack: { store: Store; intel: Intel },
  deps: { logger: Logger; registry: Registry; seed: number },
): Promise<DemoSourcesResult> {
  const web = createWeb(WebConfig.parse({}), {
    logger: deps.logger,
    registry: deps.registry,
    db: stack.store.db as unknown as Kysely<WebTables>,
  });
  let phishingRecorded = 0;
  const urls = demoPhishingUrls(deps.seed);
  await web.ingest(
    urls.map((url) => ({ url })),
    'demo-phishing-feed',
    async (scored) => {
      const verdicts = withWholeHost(scored);
      phishingRecorded += (await recordWebVerdicts(stack.intel, verdicts, 'demo-phishing-feed')).sightings;
    },
  );
  const findings = demoSurveyFindings(deps.seed);
  await recordSurveyFindings(stack.intel, findings, 'demo-survey');
  return { phishingUrls: urls.length, phishingRecorded, surveyFindings: findings.length };
}
