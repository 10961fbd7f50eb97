/**
 * The TAXII benchmark's client, the same code for every server: GET walks of a collection and POSTs
 * of envelopes over node:http (keep-alive) on 127.0.0.1, in blocks. Around each block the server
 * process's CPU time is read from /proc, so each kind of request gets the server's CPU per request
 * beside its wall latencies. Servers take turns block by block (interleavedWalks, interleavedPosts),
 * the one going first alternating, so a change in the machine's load falls on both.
 */
import http from 'node:http';
import { processCpuMs } from './tsunagi.ts';

const TAXII = 'application/taxii+json;version=2.1';
/** Below this many requests the tail is printed as the maximum: a "p99" of fewer would be it. */
export const MIN_FOR_P99 = 100;

export interface Server {
  name: string;
  /** Base URL of the objects endpoint of the collection. */
  objectsUrl: string;
  authorization: string;
  /** The server's process, whose CPU time is read around each block. */
  pid: number;
}

export interface Timing {
  requests: number;
  objects: number;
  /** Sum of the requests' latencies (one request at a time), s. */
  seconds: number;
  /** The server process's CPU time (user + system) over the blocks of these requests, ms. */
  cpuMs: number;
  p50: number;
  p99: number;
  max: number;
}

/** Latencies, objects and server CPU of one kind of request on one server. */
export class Tally {
  readonly latencies: number[] = [];
  objects = 0;
  cpuMs = 0;

  add(ms: number, objects: number): void {
    this.latencies.push(ms);
    this.objects += objects;
  }

  timing(): Timing {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    // Nearest rank: the p99 of 100 requests is the 99th, not the 100th (the maximum).
    const at = (q: number) => sorted[Math.max(0, Math.ceil(sorted.length * q) - 1)] ?? NaN;
    return {
      requests: sorted.length,
      objects: this.objects,
      seconds: sorted.reduce((sum, ms) => sum + ms, 0) / 1000,
      cpuMs: this.cpuMs,
      p50: at(0.5),
      p99: sorted.length >= MIN_FOR_P99 ? at(0.99) : NaN,
      max: sorted.at(-1) ?? NaN,
    };
  }
}

const agent = new http.Agent({ keepAlive: true });

export function closeClient(): void {
  agent.destroy();
}

/**
 * One request over node:http with no time limit: medallion's first page can take minutes on a
 * loaded machine, past fetch's fixed 300 s header timeout.
 */
function request(
  url: string,
  options: { method?: string; headers: Record<string, string>; body?: string },
): Promise<{ status: number; text: string }> {
  return new Promise((resolve, reject) => {
    const req = http.request(
      url,
      { method: options.method ?? 'GET', headers: options.headers, agent },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () =>
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') }),
        );
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(options.body);
  });
}

/** Runs a block of requests and charges the server's CPU time over it to the tallies given. */
async function block(server: Server, charged: Tally[], run: () => Promise<void>): Promise<void> {
  const before = processCpuMs(server.pid);
  await run();
  const used = processCpuMs(server.pid) - before;
  for (const tally of charged) tally.cpuMs += used;
}

/** One GET page: the first (no `next`) or the one `next` names. */
async function getPage(server: Server, page: number, next?: string) {
  const began = performance.now();
  const res = await request(
    `${server.objectsUrl}?limit=${page}${next ? `&next=${encodeURIComponent(next)}` : ''}`,
    { headers: { accept: TAXII, authorization: server.authorization } },
  );
  if (res.status !== 200) throw new Error(`${server.name} GET ${res.status}: ${res.text.slice(0, 300)}`);
  const body = JSON.parse(res.text) as { objects?: unknown[]; next?: string; more?: boolean };
  return {
    ms: performance.now() - began,
    objects: body.objects?.length ?? 0,
    next: body.more ? body.next : undefined,
  };
}

export interface GetTallies {
  /** Every request of the whole walks (first page to the last `next` page). */
  walk: Tally;
  first: Tally;
  next: Tally;
}

export interface WalkPlan {
  page: number;
  /** Whole walks to finish (0: stop as soon as nextPages were made, mid-walk). */
  walks: number;
  /** `next` requests to make at least, starting a walk again at the end until then. */
  nextPages: number;
  /** `next` pages per block: a server's turn in a round. */
  blockPages: number;
}

interface Walker {
  server: Server;
  tallies: GetTallies;
  /** The `next` of the walk under way, if one is. */
  next?: string;
  walks: number;
}

const walkerDone = (w: Walker, plan: WalkPlan) =>
  w.tallies.next.latencies.length >= plan.nextPages &&
  (plan.walks === 0 || (w.next === undefined && w.walks >= plan.walks));

/**
 * A server's turn: its first page alone when no walk is under way (so first pages and `next`
 * pages are charged their own CPU), else up to blockPages `next` pages of its walk.
 */
async function walkTurn(w: Walker, plan: WalkPlan): Promise<void> {
  const { first, next, walk } = w.tallies;
  if (w.next === undefined) {
    await block(w.server, [first, walk], async () => {
      const page = await getPage(w.server, plan.page);
      first.add(page.ms, page.objects);
      walk.add(page.ms, page.objects);
      w.next = page.next;
      if (!w.next) w.walks++;
    });
    return;
  }
  await block(w.server, [next, walk], async () => {
    for (let i = 0; i < plan.blockPages && w.next !== undefined; i++) {
      if (plan.walks === 0 && next.latencies.length >= plan.nextPages) break;
      const page = await getPage(w.server, plan.page, w.next);
      next.add(page.ms, page.objects);
      walk.add(page.ms, page.objects);
      w.next = page.next;
      if (!w.next) w.walks++;
    }
  });
}

/**
 * Walks each server's collection with the same plan, the servers taking turns (A B, then B A, ...)
 * until each has made its walks and `next` pages.
 */
export async function interleavedWalks(servers: readonly Server[], plan: WalkPlan): Promise<GetTallies[]> {
  const walkers: Walker[] = servers.map((server) => ({
    server,
    tallies: { walk: new Tally(), first: new Tally(), next: new Tally() },
    walks: 0,
  }));
  for (let round = 0; walkers.some((w) => !walkerDone(w, plan)); round++) {
    const order = round % 2 === 0 ? walkers : [...walkers].reverse();
    for (const w of order) if (!walkerDone(w, plan)) await walkTurn(w, plan);
  }
  return walkers.map((w) => w.tallies);
}

/** `count` first pages, one block: for a server on its own (medallion's take it minutes each). */
export async function firstPages(server: Server, page: number, count: number): Promise<Tally> {
  const tally = new Tally();
  await block(server, [tally], async () => {
    for (let i = 0; i < count; i++) {
      const got = await getPage(server, page);
      tally.add(got.ms, got.objects);
    }
  });
  return tally;
}

/**
 * POSTs the envelopes in turn, each a block of its own and each server posting the same envelope in
 * a round (A B, then B A, ...). The first envelope is an untimed warm-up on every server (on
 * tsunagi it pays V8's compile of the write path; medallion's collection grows by the same 1000).
 */
export async function interleavedPosts(
  servers: readonly Server[],
  envelopes: readonly string[],
): Promise<Tally[]> {
  const tallies = servers.map(() => new Tally());
  const warmUp = new Tally();
  for (const [round, envelope] of envelopes.entries()) {
    const order = round % 2 === 0 ? servers.map((s, i) => i) : servers.map((s, i) => servers.length - 1 - i);
    for (const i of order) {
      const server = servers[i]!;
      const tally = round === 0 ? warmUp : tallies[i]!;
      await block(server, [tally], async () => {
        const began = performance.now();
        const res = await request(server.objectsUrl, {
          method: 'POST',
          headers: { accept: TAXII, 'content-type': TAXII, authorization: server.authorization },
          body: envelope,
        });
        const ms = performance.now() - began;
        const status = JSON.parse(res.text) as { success_count?: number };
        if (res.status !== 202)
          throw new Error(`${server.name} POST ${res.status}: ${res.text.slice(0, 300)}`);
        tally.add(ms, status.success_count ?? 0);
      });
    }
  }
  return tallies;
}
