/**
 * The URL verdict's template feature: phishing kits stamp out URLs from a template (a long
 * English-word subdomain on a five-character letters-and-digits .com with a bare root; a random
 * six-letter .net with a mixed-case query code), and while each piece (host_shape, label_shape,
 * path_shape) is common on benign rows too, their combination is what a kit repeats.
 *
 * - `url_template`: a learned table of smoothed log-odds per URL skeleton: the subdomain's shape
 *   (depth, character classes, length bucket, as host_shape reads it), the registrant label's
 *   (length, classes, as label_shape reads it), the suffix's risk band, and the path's shape
 *   (path_shape's), e.g. `1:a:32|5:a0:tld+|/`; its positive part only (templateValue).
 *
 * Fitted with the URL part (bench/web/fit-url.ts) on the other fold's table, like the host
 * context. An IP host has none: the host name's ip_host and the URL part's ip_host_url speak for it.
 */
import type { NormalisedUrl, Reason } from '../types.ts';
import { F_TLD_RISK, registrantLabel, type HostFeatures, type HostNameScan } from './features.ts';
import { riskBand, siteSubdomain } from './host-context.ts';
import { oncePerObject } from './memo.ts';
import { insertReason, pathShape } from './url-features.ts';

export const TEMPLATE_FEATURES = ['url_template'] as const;
export type TemplateFeature = (typeof TEMPLATE_FEATURES)[number];

export interface TemplateTables {
  /** Log-odds per URL skeleton (urlTemplate). */
  template: Record<string, number>;
}

/** The template part of model.json's URL part. */
export interface TemplateModel {
  weights: Record<TemplateFeature, number>;
  tables: TemplateTables;
}

/** The longest registrant label length the skeleton tells apart (label_shape's). */
const LABEL_LENGTH = 16;

/** The subdomain's shape: `0` for none, else depth (3 for deeper), classes (`a`, `0`, `-`), length bucket. */
function subdomainShape(sub: string): string {
  if (sub === '') return '0';
  let depth = 1;
  let letter = false;
  let digit = false;
  let hyphen = false;
  for (let i = 0; i < sub.length; i++) {
    const c = sub.charCodeAt(i);
    if (c === 0x2e) depth++;
    else if (c >= 0x30 && c <= 0x39) digit = true;
    else if (c === 0x2d || c === 0x5f) hyphen = true;
    else letter = true;
  }
  const n = sub.length;
  const bucket = n <= 4 ? 4 : n <= 8 ? 8 : n <= 16 ? 16 : n <= 32 ? 32 : 99;
  return `${Math.min(3, depth)}:${letter ? 'a' : ''}${digit ? '0' : ''}${hyphen ? '-' : ''}:${bucket}`;
}

/** The registrant label's length (16 for longer) and classes (`a` letters, `0` digits, `-` hyphens). */
function labelPart(label: string): string {
  let letter = false;
  let digit = false;
  let hyphen = false;
  for (let i = 0; i < label.length; i++) {
    const c = label.charCodeAt(i);
    if (c >= 0x61 && c <= 0x7a) letter = true;
    else if (c >= 0x30 && c <= 0x39) digit = true;
    else if (c === 0x2d) hyphen = true;
  }
  return `${Math.min(LABEL_LENGTH, label.length)}:${letter ? 'a' : ''}${digit ? '0' : ''}${hyphen ? '-' : ''}`;
}

/** The URL's skeleton (`sub|label:band|path`), or '' for an IP host. */
export function urlTemplate(url: NormalisedUrl, host: HostFeatures): string {
  if (url.hostKind !== 'domain') return '';
  return `${subdomainShape(siteSubdomain(url))}|${labelPart(registrantLabel(url))}:${riskBand(host)}|${pathShape(url.path)}`;
}

/**
 * url_template's value and key: the table's log-odds for the URL's skeleton where it leans to
 * phishing, else 0. The negative side (skeletons common on benign sites) only restated what the
 * parts already say and widened the benign tail the malicious threshold sits on: with it, the
 * nested check's held-out recall was at best 50.3 %, without 51.1 %.
 */
export function templateValue(
  url: NormalisedUrl,
  host: HostFeatures,
  tables: TemplateTables,
): { value: number; key: string } {
  const key = urlTemplate(url, host);
  if (key === '') return { value: 0, key };
  const value = tables.template[key] ?? 0;
  return { value: value > 0 ? value : 0, key };
}

/** The template part's log-odds and its reason (none for a contribution of 0). */
export function templatePart(
  url: NormalisedUrl,
  host: HostFeatures,
  model: TemplateModel,
): { logOdds: number; reasons: Reason[] } {
  const { value, key } = templateValue(url, host, model.tables);
  const contribution = value * (model.weights.url_template ?? 0);
  if (contribution === 0) return { logOdds: 0, reasons: [] };
  const reason = {} as Reason;
  reason.feature = `url_template(${key})`;
  reason.value = round(value);
  reason.contribution = round(contribution);
  return { logOdds: contribution, reasons: [reason] };
}

/*
 * The hot path. The table is compiled once per model to a Map per path shape (path_shape's key,
 * which the URL part has already made: lastPathShape) of the host's skeleton as one number:
 * subdomain depth, classes and length bucket, registrant label length and classes, risk band.
 * A URL whose path shape no key has is done after one look-up; else the host is read in place
 * (no slice, no string) and its number looked up. Labels are made once per key.
 */

interface Compiled {
  weight: number;
  byPath: Map<string, Map<number, number>>;
  value: number[];
  label: string[];
}

const BANDS = ['plat', 'tld++', 'tld+', 'tld-'];
const BUCKETS = [4, 8, 16, 32, 99];
/** Label codes: length (16 for longer) × 8 + class bits. Sub codes: 0 for none, else (depth × 8 + class bits) × 5 + bucket, depth 1..3. */
const LABEL_CODES = (LABEL_LENGTH + 1) * 8;

function classText(bits: number): string {
  return `${bits & 1 ? 'a' : ''}${bits & 2 ? '0' : ''}${bits & 4 ? '-' : ''}`;
}

/** The skeleton's host part (`sub|label:band`) of a host number. */
function hostKeyText(key: number): string {
  const band = key % 4;
  const label = Math.floor(key / 4) % LABEL_CODES;
  const sub = Math.floor(key / 4 / LABEL_CODES);
  const subText =
    sub === 0 ? '0' : `${Math.floor(sub / 40)}:${classText(Math.floor(sub / 5) % 8)}:${BUCKETS[sub % 5]}`;
  return `${subText}|${label >> 3}:${classText(label & 7)}:${BANDS[band]}`;
}

/** The host number of a skeleton's host part, -1 when it is not one hostKeyText writes. */
function hostKeyOf(text: string): number {
  const [sub, label] = text.split('|') as [string, string];
  const bits = (classes: string) =>
    (classes.includes('a') ? 1 : 0) | (classes.includes('0') ? 2 : 0) | (classes.includes('-') ? 4 : 0);
  let subCode = 0;
  if (sub !== '0') {
    const [depth, classes, bucket] = sub.split(':') as [string, string, string];
    subCode = (Number(depth) * 8 + bits(classes)) * 5 + BUCKETS.indexOf(Number(bucket));
  }
  const [length, classes, band] = label.split(':') as [string, string, string];
  const key = (subCode * LABEL_CODES + Number(length) * 8 + bits(classes)) * 4 + BANDS.indexOf(band);
  return Number.isInteger(key) && key >= 0 && hostKeyText(key) === text ? key : -1;
}

const compiledOf = oncePerObject((model: TemplateModel): Compiled => {
  const c: Compiled = { weight: model.weights.url_template ?? 0, byPath: new Map(), value: [], label: [] };
  for (const [key, value] of Object.entries(model.tables.template)) {
    // The feature reads the positive part only: a key at or below 0 gives 0, as an absent one.
    if (!(value > 0)) continue;
    const second = key.indexOf('|', key.indexOf('|') + 1);
    if (second < 0) continue;
    const host = hostKeyOf(key.slice(0, second));
    if (host < 0) continue;
    const path = key.slice(second + 1);
    let inner = c.byPath.get(path);
    if (inner === undefined) c.byPath.set(path, (inner = new Map()));
    inner.set(host, c.value.length);
    c.value.push(value);
    c.label.push(`url_template(${key})`);
  }
  return c;
});

/** Per ASCII code: the label's class bit (1 letter, 2 digit, 4 hyphen). */
const LABEL_CLASS = new Uint8Array(128);
for (let code = 0x61; code <= 0x7a; code++) LABEL_CLASS[code] = 1;
for (let code = 0x30; code <= 0x39; code++) LABEL_CLASS[code] = 2;
LABEL_CLASS[0x2d] = 4;

/** The host's number (hostKeyText's), read in place. */
function hostKey(url: NormalisedUrl, host: HostNameScan): number {
  const full = url.subdomain;
  const from = full === 'www' ? 3 : full.startsWith('www.') ? 4 : 0;
  let sub = 0;
  if (from < full.length) {
    let depth = 1;
    let classes = 0;
    for (let i = from; i < full.length; i++) {
      const c = full.charCodeAt(i);
      if (c === 0x2e) depth++;
      else if (c >= 0x30 && c <= 0x39) classes |= 2;
      else if (c === 0x2d || c === 0x5f) classes |= 4;
      else classes |= 1;
    }
    const n = full.length - from;
    const bucket = n <= 4 ? 0 : n <= 8 ? 1 : n <= 16 ? 2 : n <= 32 ? 3 : 4;
    sub = ((depth > 3 ? 3 : depth) * 8 + classes) * 5 + bucket;
  }
  const rd = url.registrableDomain;
  let text: string;
  let end: number;
  if (rd === null || rd === '') {
    text = url.host;
    const dot = text.indexOf('.');
    end = dot < 0 ? text.length : dot;
  } else {
    text = rd;
    end = rd.length - url.publicSuffix.length - 1;
  }
  let classes = 0;
  for (let i = 0; i < end; i++) {
    const code = text.charCodeAt(i);
    if (code < 128) classes |= LABEL_CLASS[code]!;
  }
  const tldRisk = host.vector[F_TLD_RISK]!;
  const band = host.platform !== '' ? 0 : tldRisk > 1 ? 1 : tldRisk > 0 ? 2 : 3;
  return (sub * LABEL_CODES + (end > LABEL_LENGTH ? LABEL_LENGTH : end) * 8 + classes) * 4 + band;
}

/**
 * templatePart's log-odds with its reason inserted into the URL's sorted reasons (insertReason),
 * the path shape given (the URL part's lastPathShape).
 */
export function addTemplate(
  url: NormalisedUrl,
  host: HostNameScan,
  model: TemplateModel,
  pathShape: string,
  reasons: Reason[],
): number {
  if (url.hostKind !== 'domain') return 0;
  const c = compiledOf(model);
  const inner = c.byPath.get(pathShape);
  if (inner === undefined) return 0;
  const at = inner.get(hostKey(url, host));
  if (at === undefined) return 0;
  const value = c.value[at]!;
  const contribution = value * c.weight;
  if (contribution === 0) return 0;
  const reason = {} as Reason;
  reason.feature = c.label[at]!;
  reason.value = round(value);
  reason.contribution = round(contribution);
  insertReason(reasons, reason);
  return contribution;
}

function round(value: number): number {
  return Math.round(value * 1000) / 1000;
}
