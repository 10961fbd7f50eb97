/**
 * Loading and authorising a survey plan: scope, opt-out, period, and the approved credential
 * list checked by hash. Everything here runs before the first packet; a refusal is a UsageError.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ipaddr from 'ipaddr.js';
import { parse as parseYaml } from 'yaml';
import {
  ipv4ToString,
  parsePrefix,
  type Prefix,
  PrefixSet,
  splitCsvLine,
  UsageError,
} from '../core/index.ts';
import { DEFAULT_PORT_SERVICE, SurveyPlan, type Service } from './config.ts';

/** Ranges a public plan may never touch (RFC 6890 special-purpose blocks and friends). */
export const SPECIAL_RANGES = [
  '0.0.0.0/8',
  '10.0.0.0/8',
  '100.64.0.0/10',
  '127.0.0.0/8',
  '169.254.0.0/16',
  '172.16.0.0/12',
  '192.0.0.0/24',
  '192.0.2.0/24',
  '192.168.0.0/16',
  '198.18.0.0/15',
  '198.51.100.0/24',
  '203.0.113.0/24',
  '224.0.0.0/4',
  '240.0.0.0/4',
  '::/8',
  '64:ff9b::/96',
  '100::/64',
  '2001:db8::/32',
  'fc00::/7',
  'fe80::/10',
  'ff00::/8',
].map(parsePrefix);

function overlaps(a: Prefix, b: Prefix): boolean {
  if (a.family !== b.family) return false;
  const [wide, narrow] = a.bits <= b.bits ? [a, b] : [b, a];
  if (wide.family === 4) return (narrow.network4 & wide.mask4) >>> 0 === wide.network4;
  const full = wide.bits >> 3;
  for (let i = 0; i < full; i++) if (narrow.network6[i] !== wide.network6[i]) return false;
  const rest = wide.bits & 7;
  if (rest === 0) return true;
  const mask = (0xff << (8 - rest)) & 0xff;
  return (narrow.network6[full]! & mask) === wide.network6[full];
}

export type ScopeVerdict =
  { ok: true } | { ok: false; reason: 'invalid-address' | 'out-of-scope' | 'opt-out' | 'special-range' };

/** Answers, for any address, whether this plan allows touching it. */
export class Scope {
  constructor(
    readonly allowed: PrefixSet,
    readonly optedOut: PrefixSet,
    readonly publicOnly: boolean,
  ) {}

  check(address: string): ScopeVerdict {
    if (!ipaddr.isValid(address)) return { ok: false, reason: 'invalid-address' };
    if (this.publicOnly) {
      const host = parsePrefix(address);
      if (SPECIAL_RANGES.some((range) => overlaps(range, host)))
        return { ok: false, reason: 'special-range' };
    }
    if (!this.allowed.hasText(address)) return { ok: false, reason: 'out-of-scope' };
    if (this.optedOut.hasText(address)) return { ok: false, reason: 'opt-out' };
    return { ok: true };
  }

  /** Every IPv4 address in scope, in order; IPv6 prefixes yield their first address only when /128. */
  *addresses(): Generator<string> {
    for (const prefix of this.allowed.prefixes) {
      if (prefix.family === 6) {
        if (prefix.bits === 128) yield prefix.text.replace(/\/128$/, '');
        continue;
      }
      const count = 2 ** (32 - prefix.bits);
      for (let i = 0; i < count; i++) yield ipv4ToString((prefix.network4 + i) >>> 0);
    }
  }
}

/** One approved known-weak pair. The password is kept off every enumerable property. */
export class Credential {
  readonly #password: string;
  constructor(
    readonly ruleId: string,
    readonly service: Service | '*',
    readonly username: string,
    password: string,
    readonly vendor: string,
    readonly model: string,
  ) {
    this.#password = password;
  }
  /** Only the probes call this, to put the password on the wire. */
  secret(): string {
    return this.#password;
  }
  toJSON(): Record<string, string> {
    return {
      ruleId: this.ruleId,
      service: this.service,
      username: this.username,
      vendor: this.vendor,
      model: this.model,
    };
  }
}

export interface PortService {
  port: number;
  service: Service;
}

export interface AuthorisedPlan {
  plan: SurveyPlan;
  scope: Scope;
  credentials: Credential[];
  ports: PortService[];
  /** Absolute path of the evidence log. */
  evidenceLog: string;
}

/** Reads a CSV body (first line a header) into rows keyed by header name. */
export function parseCsv(text: string): Record<string, string>[] {
  const lines = text.split(/\r?\n/).filter((l) => l.trim() !== '' && !l.startsWith('#'));
  const header = splitCsvLine(lines.shift() ?? '').map((h) => h.trim());
  return lines.map((line) => {
    const fields = splitCsvLine(line);
    return Object.fromEntries(header.map((h, i) => [h, (fields[i] ?? '').trim()]));
  });
}

/** Parses the approved credential CSV; its bytes must hash to `sha256` or nothing is loaded. */
export function loadCredentials(path: string, sha256: string): Credential[] {
  let bytes: Buffer;
  try {
    bytes = readFileSync(path);
  } catch (error) {
    throw new UsageError(`cannot read credential list ${path}: ${(error as Error).message}`);
  }
  const actual = createHash('sha256').update(bytes).digest('hex');
  if (actual !== sha256.toLowerCase()) {
    throw new UsageError(
      `credential list ${path} is not the approved one: its SHA-256 is ${actual}, the plan approves ${sha256.toLowerCase()}`,
    );
  }
  const rows = parseCsv(bytes.toString('utf8'));
  const seen = new Set<string>();
  return rows.map((row, index) => {
    const where = `credential list ${path} row ${index + 2}`;
    const ruleId = row.rule_id ?? '';
    if (!/^[A-Za-z0-9._:-]{1,64}$/.test(ruleId))
      throw new UsageError(`${where}: rule_id "${ruleId}" is missing or malformed`);
    if (seen.has(ruleId)) throw new UsageError(`${where}: rule_id ${ruleId} appears twice`);
    seen.add(ruleId);
    const service = row.service || '*';
    if (!['*', 'telnet', 'ssh', 'http', 'https'].includes(service))
      throw new UsageError(`${where}: unknown service "${service}"`);
    if (!row.username) throw new UsageError(`${where}: username is empty`);
    return new Credential(
      ruleId,
      service as Service | '*',
      row.username,
      row.password ?? '',
      row.vendor || '*',
      row.model || '*',
    );
  });
}

function readPrefixFile(path: string): string[] {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read ${path}: ${(error as Error).message}`);
  }
  return text
    .split(/\r?\n/)
    .map((l) => l.replace(/#.*/, '').trim())
    .filter(Boolean);
}

function parsePrefixOrThrow(text: string, where: string): Prefix {
  try {
    return parsePrefix(text);
  } catch {
    throw new UsageError(`${where}: "${text}" is not an address or CIDR`);
  }
}

export interface AuthoriseOptions {
  /** Relative paths in the plan resolve against this directory. */
  baseDir?: string;
  now?: Date;
}

/** Validates a parsed plan and everything it points to; throws UsageError naming the first problem. */
export function authorisePlan(input: unknown, options: AuthoriseOptions = {}): AuthorisedPlan {
  const parsed = SurveyPlan.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`,
    );
    throw new UsageError(`invalid survey plan: ${problems.join('; ')}`);
  }
  const plan = parsed.data;
  const base = options.baseDir ?? process.cwd();
  const at = (p: string) => resolve(base, p);

  const start = Date.parse(plan.period.start);
  const end = Date.parse(plan.period.end);
  if (!(end > start)) throw new UsageError('survey plan period ends before it starts');
  const now = (options.now ?? new Date()).getTime();
  if (now < start || now > end) {
    throw new UsageError(
      `survey plan ${plan.id} is authorised from ${plan.period.start} to ${plan.period.end}, not now (${new Date(now).toISOString()})`,
    );
  }

  const prefixes: Prefix[] = plan.scope.cidrs.map((c) => parsePrefixOrThrow(c, 'scope.cidrs'));
  if (plan.scope.asns.length > 0) {
    if (!plan.scope.asnTable)
      throw new UsageError('scope.asns needs scope.asnTable to resolve them into prefixes');
    const wanted = new Set(plan.scope.asns);
    const rows = parseCsv(readFileSync(at(plan.scope.asnTable), 'utf8'));
    const before = prefixes.length;
    for (const row of rows)
      if (wanted.has(Number(row.asn)))
        prefixes.push(parsePrefixOrThrow(row.prefix ?? '', `scope.asnTable ${plan.scope.asnTable}`));
    if (prefixes.length === before)
      throw new UsageError(`scope.asnTable has no prefix for AS ${plan.scope.asns.join(', ')}`);
  }
  if (prefixes.length === 0) throw new UsageError('survey plan has no scope: name scope.cidrs or scope.asns');
  let total = 0;
  for (const p of prefixes) {
    if (p.family === 6 && p.bits < 128)
      throw new UsageError(`scope ${p.text}: IPv6 scope must name single addresses (/128)`);
    total += p.family === 4 ? 2 ** (32 - p.bits) : 1;
    if (plan.kind === 'public') {
      const special = SPECIAL_RANGES.find((range) => overlaps(range, p));
      if (special)
        throw new UsageError(
          `scope ${p.text} overlaps the special-purpose range ${special.text}; a public plan may not survey it`,
        );
    }
  }
  if (total > plan.scope.maxAddresses)
    throw new UsageError(
      `scope holds ${total} addresses, more than scope.maxAddresses ${plan.scope.maxAddresses}`,
    );

  const optedOut = new PrefixSet();
  for (const file of plan.optOut)
    for (const line of readPrefixFile(at(file)))
      optedOut.add(parsePrefixOrThrow(line, `opt-out list ${file}`));

  for (const source of plan.sourceAddresses)
    if (!ipaddr.isValid(source)) throw new UsageError(`sourceAddresses: "${source}" is not an address`);
  if (plan.bindAddress && !plan.sourceAddresses.includes(plan.bindAddress)) {
    throw new UsageError(`bindAddress ${plan.bindAddress} is not one of the published sourceAddresses`);
  }

  const credentials = loadCredentials(at(plan.credentials.file), plan.credentials.sha256);
  const ports: PortService[] = plan.ports.map((entry) => {
    if (typeof entry !== 'number') return entry;
    const service = DEFAULT_PORT_SERVICE[entry];
    if (!service)
      throw new UsageError(
        `port ${entry} has no default service; write { port: ${entry}, service: telnet|ssh|http|https }`,
      );
    return { port: entry, service };
  });

  return {
    plan,
    scope: new Scope(new PrefixSet(prefixes), optedOut, plan.kind === 'public'),
    credentials,
    ports,
    evidenceLog: at(plan.evidenceLog),
  };
}

/** Reads a YAML or JSON plan file and authorises it. */
export function loadPlan(path: string, options: Omit<AuthoriseOptions, 'baseDir'> = {}): AuthorisedPlan {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read survey plan ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = path.endsWith('.json') ? JSON.parse(text) : parseYaml(text);
  } catch (error) {
    throw new UsageError(
      `survey plan ${path} is not valid ${path.endsWith('.json') ? 'JSON' : 'YAML'}: ${(error as Error).message}`,
    );
  }
  return authorisePlan(parsed, { ...options, baseDir: dirname(resolve(path)) });
}
