/**
 * A TAXII 2.1 client over node's fetch that treats the server as untrusted: every response is
 * size-capped, time-limited, checked for its media type and validated with zod; failures are
 * TaxiiClientError with a kind that is also counted in `tsunagi_taxii_client_errors_total`.
 */
import { Counter, type Registry } from 'prom-client';
import { z } from 'zod';
import { BodyTooLargeError, readBody } from '../core/index.ts';
import { StixCommon, type StixObject } from '../share/index.ts';
import { TaxiiClientConfig, type TaxiiClientConfigInput } from './config.ts';

export const TAXII_MEDIA_TYPE = 'application/taxii+json;version=2.1';

export type TaxiiErrorKind =
  | 'config'
  | 'network'
  | 'timeout'
  | 'http'
  | 'too_large'
  | 'media_type'
  | 'json'
  | 'schema'
  | 'pagination'
  | 'status';

export class TaxiiClientError extends Error {
  constructor(
    readonly kind: TaxiiErrorKind,
    message: string,
    /** HTTP status when the server answered one. */
    readonly status?: number,
  ) {
    super(message);
    this.name = 'TaxiiClientError';
  }
  /** Whether trying again later may succeed (the network, the server's load), not a refusal. */
  get retriable(): boolean {
    if (this.kind === 'network' || this.kind === 'timeout' || this.kind === 'status') return true;
    if (this.kind === 'http') return this.status === 408 || this.status === 429 || (this.status ?? 0) >= 500;
    return false;
  }
}

const MAX_TEXT = 2000;
const Text = z.string().max(MAX_TEXT);

const Discovery = z
  .object({
    title: Text,
    description: Text.optional(),
    default: Text.optional(),
    api_roots: z.array(Text).max(1000).optional(),
  })
  .loose();
export type Discovery = z.infer<typeof Discovery>;

const ApiRootInfo = z
  .object({
    title: Text,
    versions: z.array(Text).max(100),
    max_content_length: z.number().int().nonnegative(),
  })
  .loose();
export type ApiRootInfo = z.infer<typeof ApiRootInfo>;

const CollectionInfo = z
  .object({
    id: Text,
    title: Text,
    description: Text.optional(),
    can_read: z.boolean(),
    can_write: z.boolean(),
    media_types: z.array(Text).max(100).optional(),
  })
  .loose();
export type CollectionInfo = z.infer<typeof CollectionInfo>;

const Collections = z.object({ collections: z.array(CollectionInfo).max(100_000).optional() }).loose();

const Envelope = z
  .object({
    more: z.boolean().optional(),
    next: z.string().min(1).max(MAX_TEXT).optional(),
    objects: z.array(z.unknown()).optional(),
  })
  .loose();

const StatusDetail = z.object({ id: Text, version: Text.optional(), message: Text.optional() }).loose();
const Status = z
  .object({
    id: Text,
    status: z.enum(['pending', 'complete']),
    request_timestamp: Text.optional(),
    total_count: z.number().int().nonnegative(),
    success_count: z.number().int().nonnegative(),
    successes: z.array(StatusDetail).optional(),
    failure_count: z.number().int().nonnegative(),
    failures: z.array(StatusDetail).optional(),
    pending_count: z.number().int().nonnegative(),
    pendings: z.array(StatusDetail).optional(),
  })
  .loose();
export type TaxiiStatus = z.infer<typeof Status>;

const ErrorBody = z.object({ title: Text, description: Text.optional() }).loose();

export interface ObjectsQuery {
  /** Only objects added after this RFC 3339 time. */
  addedAfter?: string;
  /** `match[type]`. */
  types?: readonly string[];
  /** Aborts the whole poll (stop()). */
  signal?: AbortSignal;
}

export interface PageSummary {
  /** Objects received and valid. */
  objects: number;
  /** Objects dropped because they are not STIX 2.1 (counted as `invalid_object`). */
  invalid: number;
  pages: number;
  /** X-TAXII-Date-Added-Last of the last page that had objects: the next poll's added_after. */
  dateAddedLast?: string;
  /** Stopped at maxObjects or maxPages with more left on the server. */
  truncated: boolean;
}

export interface PostResult {
  /** Ids of the objects the server stored. */
  successes: string[];
  /** Objects the server refused, with its reason. */
  failures: { id: string; message: string }[];
  /** Status resources polled to completion, one per envelope. */
  statuses: TaxiiStatus[];
}

export interface TaxiiClient {
  readonly config: TaxiiClientConfig;
  discover(signal?: AbortSignal): Promise<Discovery>;
  /** The API root URL in use (resolved once through discovery when not configured). */
  apiRootUrl(signal?: AbortSignal): Promise<string>;
  apiRoot(signal?: AbortSignal): Promise<ApiRootInfo>;
  collections(signal?: AbortSignal): Promise<CollectionInfo[]>;
  collection(signal?: AbortSignal): Promise<CollectionInfo>;
  /** Follows `more`/`next` to the end (or the caps), handing each page's valid objects on. */
  forEachPage(
    query: ObjectsQuery,
    onPage: (objects: StixObject[], dateAddedLast: string | undefined) => void | Promise<void>,
  ): Promise<PageSummary>;
  /** All valid objects of a query (up to maxObjects) in one array. */
  getObjects(query?: ObjectsQuery): Promise<Omit<PageSummary, 'objects'> & { objects: StixObject[] }>;
  /** POSTs objects in envelopes of postBatchSize, polling each status until complete. */
  postObjects(objects: readonly StixObject[], signal?: AbortSignal): Promise<PostResult>;
  status(id: string, signal?: AbortSignal): Promise<TaxiiStatus>;
}

export interface TaxiiClientDeps {
  registry?: Registry;
  /** Label on the client's metrics, telling several clients apart (e.g. `bots`, `share`). */
  label?: string;
  /** fetch to use (node's by default). */
  fetch?: typeof fetch;
}

/** Registers a counter once per registry; several clients share it and differ by label. */
function sharedCounter(registry: Registry, name: string, help: string, labelNames: string[]): Counter {
  const existing = registry.getSingleMetric(name);
  if (existing) return existing as Counter;
  return new Counter({ name, help, labelNames, registers: [registry] });
}

export interface ClientMetrics {
  error(kind: string): void;
  request(outcome: 'ok' | 'error'): void;
  objects(n: number): void;
}

export function clientMetrics(registry: Registry | undefined, label: string): ClientMetrics {
  if (!registry) return { error() {}, request() {}, objects() {} };
  const errors = sharedCounter(
    registry,
    'tsunagi_taxii_client_errors_total',
    'TAXII client failures by kind (network, timeout, http, too_large, media_type, json, schema, pagination, status, invalid_object, ...)',
    ['client', 'kind'],
  );
  const requests = sharedCounter(
    registry,
    'tsunagi_taxii_client_requests_total',
    'TAXII client HTTP requests by outcome',
    ['client', 'outcome'],
  );
  const objects = sharedCounter(
    registry,
    'tsunagi_taxii_client_objects_total',
    'Valid STIX objects received by the TAXII client',
    ['client'],
  );
  return {
    error: (kind) => errors.inc({ client: label, kind }),
    request: (outcome) => requests.inc({ client: label, outcome }),
    objects: (n) => objects.inc({ client: label }, n),
  };
}

function isTaxiiMediaType(contentType: string | null): boolean {
  if (!contentType) return false;
  const [type, ...params] = contentType.split(';').map((p) => p.trim().toLowerCase());
  if (type !== 'application/taxii+json') return false;
  // Parameters may be quoted (`version="2.1"`) and charset may come along.
  const version = params.find((p) => p.replace(/\s+/g, '').startsWith('version='));
  return !version || version.replace(/[\s"]/g, '') === 'version=2.1';
}

/**
 * Reads at most `max` bytes of a body within the request's deadline; more is a `too_large`
 * error (the rest is never read).
 */
async function readCapped(response: Response, max: number, signal: AbortSignal): Promise<string> {
  try {
    const { bytes } = await readBody(response, { maxBytes: max, overflow: 'error', signal });
    return bytes.toString('utf8');
  } catch (error) {
    if (!(error instanceof BodyTooLargeError)) throw error;
    const size = error.declared === undefined ? 'response' : `response of ${error.declared} bytes`;
    throw new TaxiiClientError('too_large', `${size} is over the ${max}-byte limit`);
  }
}

function describeIssue(error: z.ZodError): string {
  const issue = error.issues[0]!;
  return `${issue.path.join('.') || '(body)'}: ${issue.message}`;
}

/** The Authorization header for the configured token or user (none when neither is set). */
function authorizationOf(config: TaxiiClientConfig): string | undefined {
  if (config.token) return `Bearer ${config.token}`;
  if (config.username !== undefined)
    return `Basic ${Buffer.from(`${config.username}:${config.password}`).toString('base64')}`;
  return undefined;
}

type Request = <T>(
  method: 'GET' | 'POST',
  url: URL,
  schema: z.ZodType<T>,
  options?: { body?: string; signal?: AbortSignal },
) => Promise<{ body: T; headers: Headers }>;

/** An error body's title and description, when the server sent a TAXII one. */
function errorDetail(text: string): string {
  try {
    const parsed = ErrorBody.safeParse(JSON.parse(text));
    if (parsed.success)
      return `: ${parsed.data.title}${parsed.data.description ? ` (${parsed.data.description})` : ''}`;
  } catch {
    // Not a TAXII error body; the status says enough.
  }
  return '';
}

/** Holds a read answer to TAXII: a 2xx status, the TAXII media type, JSON, and the schema. */
function checkAnswer<T>(method: string, url: URL, response: Response, text: string, schema: z.ZodType<T>): T {
  if (!response.ok)
    throw new TaxiiClientError(
      'http',
      `${method} ${url.pathname} answered ${response.status}${errorDetail(text)}`,
      response.status,
    );
  if (!isTaxiiMediaType(response.headers.get('content-type')))
    throw new TaxiiClientError(
      'media_type',
      `${method} ${url.pathname} answered ${String(response.headers.get('content-type')).slice(0, 100)}, not ${TAXII_MEDIA_TYPE}`,
    );
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new TaxiiClientError('json', `${method} ${url.pathname} answered a body that is not JSON`);
  }
  const parsed = schema.safeParse(json);
  if (!parsed.success)
    throw new TaxiiClientError(
      'schema',
      `${method} ${url.pathname} answered an unexpected body: ${describeIssue(parsed.error)}`,
    );
  return parsed.data;
}

/**
 * One HTTP exchange, time-limited (and aborted with the caller's signal), its body size-capped
 * and checked; every outcome is counted.
 */
function createRequest(config: TaxiiClientConfig, doFetch: typeof fetch, metrics: ClientMetrics): Request {
  const authorization = authorizationOf(config);
  const timeoutOrAbort = (outer: AbortSignal | undefined): TaxiiClientError =>
    outer?.aborted
      ? new TaxiiClientError('network', 'aborted')
      : new TaxiiClientError('timeout', `no complete answer within ${config.timeoutMs} ms`);

  return async (method, url, schema, options = {}) => {
    const controller = new AbortController();
    const timer = setTimeout(() => controller.abort(), config.timeoutMs);
    const onOuterAbort = () => controller.abort();
    options.signal?.addEventListener('abort', onOuterAbort, { once: true });
    const failedOn = (error: unknown): TaxiiClientError => {
      if (error instanceof TaxiiClientError) return error;
      if (controller.signal.aborted) return timeoutOrAbort(options.signal);
      return new TaxiiClientError('network', `${method} ${url.pathname}: ${(error as Error).message}`);
    };
    try {
      const response = await doFetch(url, {
        method,
        headers: {
          accept: TAXII_MEDIA_TYPE,
          ...(authorization ? { authorization } : {}),
          ...(options.body !== undefined ? { 'content-type': TAXII_MEDIA_TYPE } : {}),
        },
        ...(options.body !== undefined ? { body: options.body } : {}),
        // A redirect could carry the token elsewhere: refuse it.
        redirect: 'error',
        signal: controller.signal,
      }).catch((error: unknown) => Promise.reject(failedOn(error)));
      const text = await readCapped(
        response,
        response.ok ? config.maxBodyBytes : Math.min(config.maxBodyBytes, 64 * 1024),
        controller.signal,
      ).catch((error: unknown) => Promise.reject(failedOn(error)));
      const body = checkAnswer(method, url, response, text, schema);
      metrics.request('ok');
      return { body, headers: response.headers };
    } catch (error) {
      metrics.request('error');
      const e =
        error instanceof TaxiiClientError ? error : new TaxiiClientError('network', (error as Error).message);
      metrics.error(e.kind);
      throw e;
    } finally {
      clearTimeout(timer);
      options.signal?.removeEventListener('abort', onOuterAbort);
    }
  };
}

/** What the paging and posting below need of a client. */
interface ClientContext {
  config: TaxiiClientConfig;
  request: Request;
  metrics: ClientMetrics;
  collectionUrl(suffix: string, signal?: AbortSignal): Promise<URL>;
  status(id: string, signal?: AbortSignal): Promise<TaxiiStatus>;
}

/** The page's objects that are STIX 2.1; the others are counted and dropped. */
function validObjects(raw: readonly unknown[], summary: PageSummary, metrics: ClientMetrics): StixObject[] {
  const valid: StixObject[] = [];
  for (const item of raw) {
    const parsed = StixCommon.safeParse(item);
    if (parsed.success) valid.push(parsed.data as StixObject);
    else {
      summary.invalid++;
      metrics.error('invalid_object');
    }
  }
  return valid;
}

/** X-TAXII-Date-Added-Last when it is a sane date; a bad one on a page with objects is counted. */
function dateAddedLastOf(
  headers: Headers,
  objectsOnPage: number,
  metrics: ClientMetrics,
): string | undefined {
  const lastHeader = headers.get('x-taxii-date-added-last') ?? undefined;
  const dateAddedLast =
    lastHeader && !Number.isNaN(Date.parse(lastHeader)) && lastHeader.length <= 40 ? lastHeader : undefined;
  if (objectsOnPage > 0 && lastHeader && !dateAddedLast) metrics.error('bad_date_header');
  return dateAddedLast;
}

async function forEachPage(
  ctx: ClientContext,
  query: ObjectsQuery,
  onPage: (objects: StixObject[], dateAddedLast: string | undefined) => void | Promise<void>,
): Promise<PageSummary> {
  const { config, metrics } = ctx;
  const summary: PageSummary = { objects: 0, invalid: 0, pages: 0, truncated: false };
  let addedAfter = query.addedAfter;
  let next: string | undefined;
  const seenNext = new Set<string>();
  for (;;) {
    if (summary.pages >= config.maxPages || summary.objects >= config.maxObjects) {
      summary.truncated = true;
      break;
    }
    const url = await ctx.collectionUrl('objects/', query.signal);
    const limit = Math.min(config.pageSize, config.maxObjects - summary.objects);
    url.searchParams.set('limit', String(limit));
    if (addedAfter) url.searchParams.set('added_after', addedAfter);
    if (query.types?.length) url.searchParams.set('match[type]', query.types.join(','));
    if (next) url.searchParams.set('next', next);
    const { body, headers } = await ctx.request('GET', url, Envelope, { signal: query.signal });
    summary.pages++;
    const raw = body.objects ?? [];
    const valid = validObjects(raw, summary, metrics);
    // A server that hands out more than asked is held to the cap all the same.
    const room = config.maxObjects - summary.objects;
    const taken = valid.length > room ? valid.slice(0, room) : valid;
    if (taken.length < valid.length) summary.truncated = true;
    const dateAddedLast = dateAddedLastOf(headers, raw.length, metrics);
    summary.objects += taken.length;
    metrics.objects(taken.length);
    // Once objects were cut, the page's last date would skip the rest: keep the old watermark.
    if (dateAddedLast && !summary.truncated) summary.dateAddedLast = dateAddedLast;
    await onPage(taken, summary.truncated ? undefined : dateAddedLast);
    if (summary.truncated || !body.more) break;
    if (body.next) {
      if (seenNext.has(body.next)) {
        metrics.error('pagination');
        throw new TaxiiClientError('pagination', 'the server handed out the same next cursor twice');
      }
      seenNext.add(body.next);
      next = body.next;
    } else if (dateAddedLast && dateAddedLast !== addedAfter) {
      // Servers without cursors: page on by date, as the specification allows.
      addedAfter = dateAddedLast;
    } else {
      metrics.error('pagination');
      throw new TaxiiClientError(
        'pagination',
        'the server says there is more but gives neither next nor a later X-TAXII-Date-Added-Last',
      );
    }
  }
  return summary;
}

/** Polls a pending status until it completes, or fails with `status` after statusTimeoutMs. */
async function completedStatus(
  ctx: ClientContext,
  status: TaxiiStatus,
  signal?: AbortSignal,
): Promise<TaxiiStatus> {
  const { config } = ctx;
  const deadline = Date.now() + config.statusTimeoutMs;
  while (status.status === 'pending') {
    if (Date.now() >= deadline) {
      ctx.metrics.error('status');
      throw new TaxiiClientError(
        'status',
        `status ${status.id} still pending after ${config.statusTimeoutMs} ms`,
      );
    }
    await new Promise((resolve) => setTimeout(resolve, config.statusPollMs));
    status = await ctx.status(status.id, signal);
  }
  return status;
}

async function postObjects(
  ctx: ClientContext,
  objects: readonly StixObject[],
  signal?: AbortSignal,
): Promise<PostResult> {
  const { config } = ctx;
  const result: PostResult = { successes: [], failures: [], statuses: [] };
  for (let i = 0; i < objects.length; i += config.postBatchSize) {
    const envelope = { objects: objects.slice(i, i + config.postBatchSize) };
    const url = await ctx.collectionUrl('objects/', signal);
    const { body } = await ctx.request('POST', url, Status, { body: JSON.stringify(envelope), signal });
    const status = await completedStatus(ctx, body, signal);
    result.statuses.push(status);
    for (const s of status.successes ?? []) result.successes.push(s.id);
    for (const f of status.failures ?? [])
      result.failures.push({ id: f.id, message: f.message ?? 'refused without a reason' });
    // A server that counts failures without listing them still failed those objects.
    if (status.failure_count > (status.failures?.length ?? 0)) ctx.metrics.error('unlisted_failures');
  }
  return result;
}

export function createTaxiiClient(
  rawConfig: TaxiiClientConfigInput,
  deps: TaxiiClientDeps = {},
): TaxiiClient {
  const config = TaxiiClientConfig.parse(rawConfig);
  const metrics = clientMetrics(deps.registry, deps.label ?? 'taxii');
  const request = createRequest(config, deps.fetch ?? fetch, metrics);
  const base = new URL(config.url);
  const discoveryUrl = new URL(/\/taxii2\/?$/.test(base.pathname) ? base.href : '/taxii2/', base);
  if (!discoveryUrl.pathname.endsWith('/')) discoveryUrl.pathname += '/';
  let rootUrl: string | undefined = config.apiRoot ? resolveRoot(config.apiRoot) : undefined;

  /** A root from configuration or discovery, held to the configured origin (the token goes nowhere else). */
  function resolveRoot(text: string): string {
    const url = new URL(/^https?:\/\//i.test(text) || text.startsWith('/') ? text : `/${text}/`, base);
    if (url.origin !== base.origin)
      throw new TaxiiClientError('config', `API root ${url.origin} is not on ${base.origin}`);
    if (!url.pathname.endsWith('/')) url.pathname += '/';
    url.search = '';
    url.hash = '';
    return url.href;
  }

  async function apiRootUrl(signal?: AbortSignal): Promise<string> {
    if (rootUrl) return rootUrl;
    const discovery = await client.discover(signal);
    const chosen = discovery.default ?? discovery.api_roots?.[0];
    if (!chosen) throw new TaxiiClientError('config', 'the server names no API root; configure apiRoot');
    rootUrl = resolveRoot(chosen);
    return rootUrl;
  }

  async function collectionUrl(suffix: string, signal?: AbortSignal): Promise<URL> {
    return new URL(
      `collections/${encodeURIComponent(config.collection)}/${suffix}`,
      await apiRootUrl(signal),
    );
  }

  const client: TaxiiClient = {
    config,
    async discover(signal) {
      return (await request('GET', discoveryUrl, Discovery, { signal })).body;
    },
    apiRootUrl,
    async apiRoot(signal) {
      return (await request('GET', new URL(await apiRootUrl(signal)), ApiRootInfo, { signal })).body;
    },
    async collections(signal) {
      const url = new URL('collections/', await apiRootUrl(signal));
      return (await request('GET', url, Collections, { signal })).body.collections ?? [];
    },
    async collection(signal) {
      return (await request('GET', await collectionUrl('', signal), CollectionInfo, { signal })).body;
    },
    forEachPage: (query, onPage) => forEachPage(context, query, onPage),
    async getObjects(query = {}) {
      const objects: StixObject[] = [];
      const summary = await client.forEachPage(query, (page) => {
        for (const o of page) objects.push(o);
      });
      return { ...summary, objects };
    },
    async status(id, signal) {
      const url = new URL(`status/${encodeURIComponent(id)}/`, await apiRootUrl(signal));
      return (await request('GET', url, Status, { signal })).body;
    },
    postObjects: (objects, signal) => postObjects(context, objects, signal),
  };
  const context: ClientContext = {
    config,
    request,
    metrics,
    collectionUrl,
    status: (id, signal) => client.status(id, signal),
  };
  return client;
}
