/**
 * The TAXII benchmark's client: CPU read from /proc, percentiles only over enough requests, and
 * servers taking turns over the same plan (two paging servers on loopback stand in for the
 * TAXII servers here; the benchmark itself runs tsunagi and medallion).
 */
import assert from 'node:assert/strict';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, describe, test } from 'node:test';
import { closeClient, interleavedPosts, interleavedWalks, Tally, type Server } from './measure.ts';
import { cpuMsOfStat, processCpuMs } from './tsunagi.ts';

after(() => closeClient());

describe('server CPU from /proc', () => {
  test('utime + stime in ms, whatever the command name holds', () => {
    const stat = '1234 (python3 (x) y) S 1 1234 1234 0 -1 4194560 100 0 0 0 250 75 0 0 20 0 11 0 100 0 0';
    assert.equal(cpuMsOfStat(stat), 3250);
    assert.throws(() => cpuMsOfStat('1 (x) S 1 2'), /layout/);
  });

  test("this process's CPU time grows as getrusage says, to the kernel's 10 ms tick", () => {
    // Spin on CPU time, not wall time: on a loaded machine 200 ms of wall time may be little CPU.
    const before = processCpuMs(process.pid);
    const start = process.cpuUsage();
    let spent = 0;
    while (spent < 300) {
      const used = process.cpuUsage(start);
      spent = (used.user + used.system) / 1000;
    }
    const counted = processCpuMs(process.pid) - before;
    assert.ok(Math.abs(counted - spent) <= 30, `/proc counted ${counted} ms of ${spent.toFixed(0)} ms`);
  });
});

describe('Tally', () => {
  test('a p99 only over 100 requests or more, by nearest rank', () => {
    const few = new Tally();
    for (let i = 1; i <= 99; i++) few.add(i, 1);
    assert.ok(Number.isNaN(few.timing().p99));
    assert.equal(few.timing().max, 99);
    const hundred = new Tally();
    for (let i = 1; i <= 100; i++) hundred.add(i, 2);
    const t = hundred.timing();
    assert.equal(t.p99, 99);
    assert.equal(t.p50, 50);
    assert.equal(t.objects, 200);
    assert.equal(t.seconds, 5.05);
  });
});

/** A paging server over `total` numbered objects, logging each request as "name first|next|post". */
async function pagingServer(name: string, total: number, log: string[]): Promise<Server & { close(): void }> {
  const server = http.createServer((req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (req.method === 'POST') {
      req.resume();
      req.on('end', () => {
        log.push(`${name} post`);
        res.writeHead(202).end(JSON.stringify({ success_count: 3 }));
      });
      return;
    }
    const limit = Number(url.searchParams.get('limit'));
    const from = Number(url.searchParams.get('next') ?? 0);
    log.push(`${name} ${url.searchParams.has('next') ? 'next' : 'first'}`);
    const to = Math.min(total, from + limit);
    const more = to < total;
    res.writeHead(200).end(
      JSON.stringify({
        objects: Array.from({ length: to - from }, (_, i) => from + i),
        more,
        ...(more ? { next: String(to) } : {}),
      }),
    );
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    name,
    objectsUrl: `http://127.0.0.1:${port}/objects/`,
    authorization: 'Bearer x',
    pid: process.pid,
    close: () => server.close(),
  };
}

describe('servers take turns over the same plan', () => {
  test('whole walks: the same first and next pages on both, turns alternating who goes first', async () => {
    const log: string[] = [];
    const a = await pagingServer('A', 95, log);
    const b = await pagingServer('B', 95, log);
    try {
      const [ta, tb] = await interleavedWalks([a, b], { page: 10, walks: 1, nextPages: 12, blockPages: 4 });
      // 95 objects in pages of 10: a walk is 1 first and 9 next pages; 12 next pages need a second walk.
      for (const t of [ta!, tb!]) {
        assert.equal(t.first.latencies.length, 2);
        assert.equal(t.next.latencies.length, 18);
        assert.equal(t.walk.latencies.length, 20);
        assert.equal(t.walk.objects, 190);
      }
      // A's first page, B's; then B's turn of 4 next pages before A's (who goes first alternates).
      assert.deepEqual(log.slice(0, 7), [
        'A first',
        'B first',
        'B next',
        'B next',
        'B next',
        'B next',
        'A next',
      ]);
    } finally {
      a.close();
      b.close();
    }
  });

  test('walks: 0 stops each server at the same number of next pages, mid-walk', async () => {
    const log: string[] = [];
    const a = await pagingServer('A', 1000, log);
    try {
      const [t] = await interleavedWalks([a], { page: 10, walks: 0, nextPages: 7, blockPages: 5 });
      assert.equal(t!.first.latencies.length, 1);
      assert.equal(t!.next.latencies.length, 7);
    } finally {
      a.close();
    }
  });

  test('POSTs: the first envelope an untimed warm-up on each, then one each per round in alternating order', async () => {
    const log: string[] = [];
    const a = await pagingServer('A', 0, log);
    const b = await pagingServer('B', 0, log);
    try {
      const [ta, tb] = await interleavedPosts([a, b], ['{}', '{}', '{}', '{}']);
      assert.equal(ta!.latencies.length, 3);
      assert.equal(tb!.latencies.length, 3);
      assert.equal(ta!.objects, 9);
      assert.deepEqual(log, ['A post', 'B post', 'B post', 'A post', 'A post', 'B post', 'B post', 'A post']);
    } finally {
      a.close();
      b.close();
    }
  });
});
