/** Surveys one host: open ports, banners, recog identification, weak-credential and firmware checks. */
import type { TLSSocket } from 'node:tls';
import type { Service, SurveyConfig } from './config.ts';
import { maxSeverity, type VulnerableTable } from './firmware.ts';
import { type Gate, sleep } from './gate.ts';
import type { AuthorisedPlan, Credential, PortService } from './plan.ts';
import {
  authorizationHeader,
  certificateNames,
  htmlTitle,
  httpGet,
  sshBanner,
  sshLogin,
  telnetBanner,
  telnetLogin,
  type LoginOutcome,
  type ReadLimits,
} from './probes.ts';
import type { Recog } from './recog.ts';
import type { Finding, HostResult } from './types.ts';

export interface Identification {
  vendor?: string;
  model?: string;
  firmware?: string;
  cpe?: string;
  deviceType?: string;
  fingerprints: string[];
}

/** Folds recog params into the fields findings carry; earlier (more specific) values win. */
export function mergeParams(into: Identification, params: Record<string, string>, fingerprint: string): void {
  const pick = (...names: string[]) => names.map((n) => params[n]).find((v) => v !== undefined && v !== '');
  into.vendor ??= pick('hw.vendor', 'os.vendor', 'service.vendor');
  into.model ??= pick('hw.model', 'hw.product');
  into.firmware ??= pick('hw.version', 'os.version', 'service.version');
  into.cpe ??= pick('hw.cpe23', 'os.cpe23', 'service.cpe23');
  into.deviceType ??= pick('hw.device', 'os.device');
  if (
    fingerprint &&
    Object.keys(params).some((k) => !k.endsWith('.certainty')) &&
    !into.fingerprints.includes(fingerprint)
  )
    into.fingerprints.push(fingerprint);
}

/** Printable ASCII only, bounded: banners are untrusted and end up in CSV files and letters. */
export function cleanBanner(text: string, max = 512): string {
  return text
    .replace(/\r\n|\r|\n/g, '\\n')
    .replace(/[^\x20-\x7e]/g, '.')
    .slice(0, max);
}

interface ServiceState {
  port: number;
  service: Service;
  banner: string;
  id: Identification;
  hostile?: string;
  /** The HTTP challenge to answer when the service wants a login. */
  challenge?: string;
  loginPossible: boolean;
  accepted?: string;
}

export interface HostCounters {
  loginAttempts: Record<LoginOutcome, number>;
  hostile: number;
}

export interface ScanDeps {
  gate: Gate;
  recog: Recog;
  vulnerable: VulnerableTable;
  config: SurveyConfig;
  plan: AuthorisedPlan;
  counters: HostCounters;
  userAgent: string;
}

/** Credentials for this device: model defaults, then vendor defaults, then generic ones, then the rest. */
export function orderCredentials(
  credentials: readonly Credential[],
  service: Service,
  id: Identification,
): Credential[] {
  const lower = (s: string | undefined) => (s ?? '').toLowerCase();
  const rank = (c: Credential) => {
    const vendorMatch = c.vendor !== '*' && lower(c.vendor) === lower(id.vendor);
    if (vendorMatch && c.model !== '*' && lower(c.model) === lower(id.model)) return 0;
    if (vendorMatch && c.model === '*') return 1;
    if (c.vendor === '*') return 2;
    return 3;
  };
  const usable = credentials.filter(
    (c) => c.service === '*' || c.service === service || (c.service === 'http' && service === 'https'),
  );
  return usable
    .map((c, i) => ({ c, i, r: rank(c) }))
    .sort((a, b) => a.r - b.r || a.i - b.i)
    .map((x) => x.c);
}

async function probeService(
  deps: ScanDeps,
  ip: string,
  entry: PortService,
  limits: ReadLimits,
): Promise<ServiceState | undefined> {
  const { gate, recog, config } = deps;
  const rule = `discover:${entry.service}`;
  const socket = await gate.connect(ip, entry.port, rule, { tls: entry.service === 'https' });
  if (!socket) return undefined;
  const state: ServiceState = {
    port: entry.port,
    service: entry.service,
    banner: '',
    id: { fingerprints: [] },
    loginPossible: false,
  };
  const match = (db: string, text: string | undefined) => {
    if (!text) return;
    const m = recog.match(db, text);
    if (m) mergeParams(state.id, m.params, m.fingerprint);
  };
  if (entry.service === 'telnet') {
    const got = await telnetBanner(socket, limits, config.maxTelnetNegotiations);
    state.banner = got.banner;
    if (got.hostile) state.hostile = `telnet negotiation loop (${got.negotiations} negotiations)`;
    match('telnet_banners', got.banner);
    state.loginPossible = !got.hostile && /(?:login|user ?name|user|password)\s*:\s*$/i.test(got.banner);
  } else if (entry.service === 'ssh') {
    const line = await sshBanner(socket, { ...limits, maxBytes: Math.min(limits.maxBytes, 4096) });
    state.banner = line ?? '';
    if (line) {
      const software = line.replace(/^SSH-[\d.]+-/, '');
      match('ssh_banners', software);
      state.loginPossible = true;
    }
  } else {
    if (entry.service === 'https') {
      const names = certificateNames(socket as TLSSocket);
      if (names) match('x509_subjects', names.subject);
    }
    const response = await httpGet(
      socket,
      ip,
      '/',
      { 'User-Agent': deps.userAgent },
      { ...limits, maxBytes: config.maxHttpBytes },
    );
    if (response) {
      const server = response.headers.get('server');
      const auth = response.headers.get('www-authenticate');
      const title = htmlTitle(response.body);
      state.banner = [
        `HTTP ${response.status}`,
        server && `Server: ${server}`,
        auth && `WWW-Authenticate: ${auth}`,
        title && `Title: ${title}`,
      ]
        .filter(Boolean)
        .join('; ');
      match('http_wwwauth', auth);
      match('http_servers', server);
      match('html_title', title);
      if (response.truncated) state.hostile = 'HTTP response larger than the byte bound';
      if (response.status === 401 && auth) {
        state.challenge = auth;
        state.loginPossible = /^\s*(basic|digest)\b/i.test(auth);
      }
    }
  }
  if (state.hostile) deps.counters.hostile++;
  return state;
}

async function attemptLogin(
  deps: ScanDeps,
  ip: string,
  state: ServiceState,
  credential: Credential,
  limits: ReadLimits,
): Promise<LoginOutcome> {
  const { gate, config } = deps;
  const socket = await gate.connect(ip, state.port, credential.ruleId, {
    tls: state.service === 'https',
    action: 'login',
  });
  if (!socket) return 'error';
  if (state.service === 'telnet')
    return telnetLogin(socket, credential, limits, config.maxTelnetNegotiations);
  if (state.service === 'ssh') return sshLogin(socket, credential, config.readTimeoutMs);
  const authorization = authorizationHeader(state.challenge ?? '', credential, 'GET', '/');
  if (!authorization) {
    socket.destroy();
    return 'error';
  }
  const response = await httpGet(
    socket,
    ip,
    '/',
    { 'User-Agent': deps.userAgent, Authorization: authorization },
    { ...limits, maxBytes: config.maxHttpBytes },
  );
  if (!response) return 'error';
  if (response.status === 401 || response.status === 403) {
    // Digest servers hand out a fresh nonce with each refusal.
    const next = response.headers.get('www-authenticate');
    if (next) state.challenge = next;
    return 'rejected';
  }
  return response.status >= 200 && response.status < 400 ? 'accepted' : 'error';
}

/** Runs every check the plan allows on one host and returns its findings. */
export async function surveyHost(deps: ScanDeps, ip: string): Promise<HostResult> {
  const { config, plan } = deps;
  const limits: ReadLimits = {
    maxBytes: config.maxBannerBytes,
    timeoutMs: config.readTimeoutMs,
    idleMs: config.idleMs,
  };
  const states: ServiceState[] = [];
  for (const entry of plan.ports) {
    const state = await probeService(deps, ip, entry, limits);
    if (state) states.push(state);
  }
  // One identity per host: a model seen in the web title also guides the telnet defaults.
  const hostId: Identification = { fingerprints: [] };
  for (const s of states) {
    mergeParams(
      hostId,
      {
        'hw.vendor': s.id.vendor ?? '',
        'hw.model': s.id.model ?? '',
        'hw.version': s.id.firmware ?? '',
        'hw.cpe23': s.id.cpe ?? '',
        'hw.device': s.id.deviceType ?? '',
      },
      '',
    );
  }
  hostId.fingerprints = [];

  let attempts = 0;
  let failures = 0;
  const maxAttempts = plan.plan.rateLimits.maxAttemptsPerHost;
  outer: for (const state of states) {
    if (!state.loginPossible) continue;
    for (const credential of orderCredentials(plan.credentials, state.service, hostId)) {
      if (attempts >= maxAttempts) break outer;
      attempts++;
      const outcome = await attemptLogin(deps, ip, state, credential, limits);
      deps.counters.loginAttempts[outcome]++;
      deps.gate.record(ip, state.port, credential.ruleId, 'login', outcome);
      if (outcome === 'accepted') {
        state.accepted = credential.ruleId;
        // One open door is enough to notify; touching the host further adds nothing.
        break outer;
      }
      failures++;
      const backoff = plan.plan.rateLimits.backoffMs;
      await sleep(Math.min(backoff * 2 ** (failures - 1), backoff * 16));
    }
  }

  const time = new Date().toISOString();
  const findings: Finding[] = states.map((s) => {
    const vendor = s.id.vendor ?? hostId.vendor;
    const model = s.id.model ?? hostId.model;
    const firmware = s.id.firmware ?? hostId.firmware;
    const cves = deps.vulnerable.match(vendor, model, firmware);
    const finding: Finding = {
      survey: plan.plan.id,
      time,
      ip,
      port: s.port,
      service: s.service,
      banner: cleanBanner(s.banner),
      fingerprints: s.id.fingerprints,
      weakCredential: s.accepted ? { accepted: true, rule: s.accepted } : null,
      cves,
      severity: s.accepted ? 'critical' : maxSeverity(cves),
      status: s.accepted ? 'weak-credential' : cves.length > 0 ? 'vulnerable-firmware' : 'exposed',
    };
    if (vendor) finding.vendor = vendor;
    if (model) finding.model = model;
    if (firmware) finding.firmware = firmware;
    const cpe = s.id.cpe ?? hostId.cpe;
    if (cpe) finding.cpe = cpe;
    const deviceType = s.id.deviceType ?? hostId.deviceType;
    if (deviceType) finding.deviceType = deviceType;
    if (s.hostile) finding.hostile = s.hostile;
    return finding;
  });
  return { ip, findings, open: states.map((s) => s.port) };
}
