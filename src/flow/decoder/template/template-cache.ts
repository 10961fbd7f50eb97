/**
 * Per-exporter template and sampling state for NetFlow v9 and IPFIX, bounded per exporter and in
 * total (oldest first out), keyed by exporter address (and port when configured), version and
 * observation domain / source id.
 */
import type { Template } from './template.ts';

/** Samplers one domain may remember; beyond that the oldest is forgotten. */
const MAX_SAMPLERS_PER_DOMAIN = 1024;

/** State of one (exporter, [port], version, domain): its templates and what options taught us. */
export class DomainState {
  readonly templates = new Map<number, Template>();
  /** Sampling rate per sampler / selector id, learned from options data. */
  readonly samplers = new Map<number, number>();
  /** Rate learned from options data without a sampler id; 0 when unknown. */
  rate = 0;
  /** IPFIX systemInitTimeMilliseconds learned from options data; 0 when unknown. */
  initMs = 0;

  constructor(
    readonly key: string,
    readonly exporter: string,
    readonly port: number,
    readonly version: 9 | 10,
    readonly domainId: number,
  ) {}

  setSamplerRate(id: number, rate: number): void {
    if (!this.samplers.has(id) && this.samplers.size >= MAX_SAMPLERS_PER_DOMAIN) {
      const oldest = this.samplers.keys().next().value;
      if (oldest !== undefined) this.samplers.delete(oldest);
    }
    this.samplers.set(id, rate);
  }
}

interface Entry {
  domain: DomainState;
  template: Template;
}

export interface TemplateCacheLimits {
  maxPerExporter: number;
  maxTotal: number;
}

export interface TemplateCacheEvents {
  /** A template left because a bound was reached. */
  evicted(version: 9 | 10): void;
}

export class TemplateCache {
  private readonly domains = new Map<string, DomainState>();
  /** Every live template in insertion order (oldest first), for the total bound. */
  private readonly all = new Set<Entry>();
  /** Live templates per exporter address in insertion order, for the per-exporter bound. */
  private readonly byExporter = new Map<string, Set<Entry>>();
  private readonly entries = new WeakMap<Template, Entry>();
  /** The domain returned last, valid while no domain has been dropped since (same generation). */
  private last: DomainState | undefined;
  private generation = 0;
  private lastGeneration = -1;
  /** Live template counts by version. */
  readonly counts = { 9: 0, 10: 0 };

  constructor(
    private readonly limits: TemplateCacheLimits,
    private readonly includePort: boolean,
    private readonly events: TemplateCacheEvents,
  ) {}

  domainKey(exporter: string, port: number, version: 9 | 10, domainId: number): string {
    return `${version}|${exporter}|${this.includePort ? port : 0}|${domainId}`;
  }

  /** The domain state, created when missing. The number of domains is bounded like templates. */
  domain(exporter: string, port: number, version: 9 | 10, domainId: number): DomainState {
    // Consecutive packets mostly come from the same exporter and domain: skip building the key.
    const last = this.last;
    if (
      last &&
      this.lastGeneration === this.generation &&
      last.exporter === exporter &&
      last.version === version &&
      last.domainId === domainId &&
      last.port === (this.includePort ? port : 0)
    ) {
      return last;
    }
    const key = this.domainKey(exporter, port, version, domainId);
    let state = this.domains.get(key);
    if (state) {
      this.last = state;
      this.lastGeneration = this.generation;
      return state;
    }
    if (this.domains.size >= this.limits.maxTotal) {
      const oldest = this.domains.values().next().value;
      if (oldest) this.dropDomain(oldest);
    }
    state = new DomainState(key, exporter, this.includePort ? port : 0, version, domainId);
    this.domains.set(key, state);
    this.last = state;
    this.lastGeneration = this.generation;
    return state;
  }

  get size(): number {
    return this.all.size;
  }

  /** Adds or replaces a template; returns true when it is new or changed (not a plain refresh). */
  add(domain: DomainState, template: Template): boolean {
    const previous = domain.templates.get(template.id);
    const changed = !previous || !previous.sameAs(template);
    if (previous) this.remove(domain, previous);
    // The domain may have been dropped to make room; bring it back.
    if (!this.domains.has(domain.key)) this.domains.set(domain.key, domain);
    let mine = this.byExporter.get(domain.exporter);
    if (!mine) {
      mine = new Set();
      this.byExporter.set(domain.exporter, mine);
    }
    while (mine.size >= this.limits.maxPerExporter) this.evictFirst(mine);
    while (this.all.size >= this.limits.maxTotal) this.evictFirst(this.all);
    const entry: Entry = { domain, template };
    domain.templates.set(template.id, template);
    this.entries.set(template, entry);
    this.all.add(entry);
    mine.add(entry);
    this.counts[domain.version]++;
    return changed;
  }

  /** Marks a template as just refreshed so the bounds evict colder ones first. */
  touch(domain: DomainState, template: Template): void {
    const entry = this.entries.get(template);
    if (!entry) return;
    this.all.delete(entry);
    this.all.add(entry);
    const mine = this.byExporter.get(domain.exporter);
    if (mine) {
      mine.delete(entry);
      mine.add(entry);
    }
  }

  /** Withdraws one template; returns whether it existed. */
  withdraw(domain: DomainState, id: number): boolean {
    const template = domain.templates.get(id);
    if (!template) return false;
    this.remove(domain, template);
    return true;
  }

  /** Withdraws every data (or options) template of a domain; returns how many. */
  withdrawAll(domain: DomainState, options: boolean): number {
    let count = 0;
    for (const template of [...domain.templates.values()]) {
      if (template.options !== options) continue;
      this.remove(domain, template);
      count++;
    }
    return count;
  }

  /** Every domain with state worth keeping, for persistence. */
  *allDomains(): IterableIterator<DomainState> {
    yield* this.domains.values();
  }

  private evictFirst(set: Set<Entry>): void {
    const first = set.values().next().value;
    if (!first) return;
    this.remove(first.domain, first.template);
    this.events.evicted(first.domain.version);
  }

  private remove(domain: DomainState, template: Template): void {
    const entry = this.entries.get(template);
    if (domain.templates.get(template.id) === template) domain.templates.delete(template.id);
    if (!entry) return;
    this.entries.delete(template);
    this.all.delete(entry);
    const mine = this.byExporter.get(domain.exporter);
    if (mine) {
      mine.delete(entry);
      if (mine.size === 0) this.byExporter.delete(domain.exporter);
    }
    this.counts[domain.version]--;
  }

  private dropDomain(domain: DomainState): void {
    this.generation++;
    for (const template of [...domain.templates.values()]) {
      this.remove(domain, template);
      this.events.evicted(domain.version);
    }
    this.domains.delete(domain.key);
  }
}
