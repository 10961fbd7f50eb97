/**
 * The summariser against a local OpenAI-compatible HTTP server. The server is a test double of an
 * external service (a hosted or local model endpoint) that cannot run here: it answers the chat
 * completions protocol with a fixed text, or late, or with an error, and records what it was sent.
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { buildReport, ReportConfig, renderReportHtml } from './index.ts';
import { seededStore, type SeededStore } from './testing.ts';

/** Numeric character references back to text (the report escapes &, <, >, quotes as &#N;). */
const unescape = (text: string) =>
  text.replace(/&#(\d+);/g, (_, n: string) => String.fromCharCode(Number(n)));

type Mode = 'ok' | 'slow' | 'error' | 'garbage' | 'drip' | 'huge';
interface Received {
  path: string;
  authorization: string | undefined;
  body: { model: string; messages: { role: string; content: string }[] };
}

let seeded: SeededStore;
let server: Server;
let base = '';
let mode: Mode = 'ok';
const received: Received[] = [];

async function readBody(request: IncomingMessage): Promise<string> {
  let text = '';
  for await (const chunk of request) text += String(chunk);
  return text;
}

before(async () => {
  seeded = await seededStore();
  server = createServer((request, response) => {
    void readBody(request).then((text) => {
      received.push({
        path: request.url ?? '',
        authorization: request.headers.authorization,
        body: JSON.parse(text),
      });
      if (mode === 'error') return response.writeHead(500).end('{"error":"overloaded"}');
      if (mode === 'huge')
        return response
          .writeHead(200, { 'content-type': 'application/json' })
          .end(`{"pad":"${'x'.repeat(2 << 20)}"}`);
      if (mode === 'drip') {
        // Headers at once, then a space every 50 ms for as long as the client listens.
        response.writeHead(200, { 'content-type': 'application/json' }).write('{');
        const timer = setInterval(() => response.write(' '), 50);
        response.on('close', () => clearInterval(timer));
        return;
      }
      if (mode === 'garbage')
        return response.writeHead(200, { 'content-type': 'application/json' }).end('{"nothing":1}');
      const answer = {
        id: 'chatcmpl-test',
        object: 'chat.completion',
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: 'Three C&C servers were active. One was new today.' },
            finish_reason: 'stop',
          },
        ],
      };
      const send = () =>
        response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      if (mode === 'slow') setTimeout(send, 1500);
      else send();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
after(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  await seeded.close();
});

function config(timeoutMs = 5000, lang: 'en' | 'ja' = 'en') {
  return ReportConfig.parse({
    period: 'daily',
    lang,
    tier: 'full',
    date: seeded.day,
    summarise: { url: base, model: 'test-model', apiKey: 'sk-test', timeoutMs },
  });
}

describe('the optional summariser', () => {
  test('each AI sentence is marked, lists the figures it was given, and a legend explains the mark', async () => {
    mode = 'ok';
    received.length = 0;
    const doc = await buildReport(config(), seeded.deps);
    const page = renderReportHtml(doc);
    // One request per section with figures, to /v1/chat/completions, with the key and the model.
    const sectionsWithFigures = doc.sections.filter((s) => s.state === 'ok').length;
    assert.equal(received.length, sectionsWithFigures);
    assert.ok(
      received.every((r) => r.path === '/v1/chat/completions' && r.authorization === 'Bearer sk-test'),
    );
    assert.equal(received[0]!.body.model, 'test-model');
    const sent = JSON.parse(received[0]!.body.messages[1]!.content) as {
      figures: { id: string; value: number }[];
    };
    const c2 = doc.summaries.get('c2');
    assert.ok(c2?.outcome === 'written');
    assert.deepEqual(
      sent.figures.map((f) => f.id),
      c2.sources,
    );
    for (const f of sent.figures) assert.equal(f.value, doc.book.value(f.id));
    const sentences = [
      ...page.matchAll(
        /<span class="ai-sentence" data-ai="true" data-sources="([^"]+)"><span class="ai-badge">AI<\/span>([^<]+)<\/span>/g,
      ),
    ];
    assert.equal(sentences.length, 2 * sectionsWithFigures);
    assert.equal(unescape(sentences[0]![2]!), 'Three C&C servers were active.');
    assert.equal(sentences[0]![1], c2.sources.join(' '));
    assert.match(page, /data-ai-legend="true"/);
    assert.match(page, /class="ai-sources">sources: <a href="#F\d+">F\d+<\/a>/);
  });

  test('a late answer: the report is still made, each summary omitted with a note, the endpoint asked once', async () => {
    mode = 'slow';
    received.length = 0;
    const started = performance.now();
    const doc = await buildReport(config(300), seeded.deps);
    const page = renderReportHtml(doc);
    assert.ok([...doc.summaries.values()].every((s) => s.outcome === 'omitted'));
    assert.match(page, /AI summary omitted: no answer within 300 ms/);
    // A server that does not answer holds the report once, not once per section.
    assert.equal(received.length, 1);
    assert.ok(doc.summaries.size > 1);
    assert.match(
      page,
      /not asked: the endpoint gave an earlier section no answer \(no answer within 300 ms\)/,
    );
    assert.ok(performance.now() - started < 300 * doc.summaries.size, 'waited once per section');
    assert.doesNotMatch(page, /class="ai-sentence"/);
    assert.doesNotMatch(page, /data-ai-legend/);
    assert.ok(unescape(page).includes('Active C&C servers'));
  });

  test('a body that drips past the deadline, or runs past the size cap: omitted, not waited for', async () => {
    mode = 'drip';
    const started = Date.now();
    let page = renderReportHtml(await buildReport(config(300), seeded.deps));
    assert.match(page, /AI summary omitted: no answer within 300 ms/);
    assert.ok(Date.now() - started < 10_000, `took ${Date.now() - started} ms`);
    mode = 'huge';
    page = renderReportHtml(await buildReport(config(), seeded.deps));
    assert.match(page, /AI summary omitted: the request failed \(the body is over the 1048576-byte limit\)/);
  });

  test('an error or a body that is no chat completion: omitted with the reason', async () => {
    mode = 'error';
    let page = renderReportHtml(await buildReport(config(), seeded.deps));
    assert.match(page, /AI summary omitted: the endpoint answered HTTP 500/);
    mode = 'garbage';
    page = renderReportHtml(await buildReport(config(), seeded.deps));
    assert.match(page, /AI summary omitted: the endpoint answered no chat completion/);
  });

  test('an endpoint nobody listens on: omitted, report complete', async () => {
    // A port that was just free: nothing listens on it.
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    const c = config();
    const url = `http://127.0.0.1:${port}`;
    const closed = ReportConfig.parse({ ...c, summarise: { ...c.summarise!, url } });
    const page = renderReportHtml(await buildReport(closed, seeded.deps));
    assert.match(page, /AI summary omitted: the request failed \(connection refused\)/);
    assert.match(page, /id="appendix"/);
  });

  test('in a Japanese report the note says why in Japanese', async () => {
    mode = 'error';
    let page = unescape(renderReportHtml(await buildReport(config(5000, 'ja'), seeded.deps)));
    assert.match(page, /AI 要約を省略しました: エンドポイントが HTTP 500 を返しました/);
    assert.doesNotMatch(page, /the endpoint answered/);
    mode = 'slow';
    page = unescape(renderReportHtml(await buildReport(config(300, 'ja'), seeded.deps)));
    assert.match(page, /AI 要約を省略しました: 300 ミリ秒以内に応答がありません/);
    mode = 'garbage';
    page = unescape(renderReportHtml(await buildReport(config(5000, 'ja'), seeded.deps)));
    assert.match(page, /AI 要約を省略しました: エンドポイントの応答がチャット補完の形式ではありません/);
  });

  test('with it off, no request and no AI mark', async () => {
    received.length = 0;
    const off = ReportConfig.parse({ period: 'daily', lang: 'en', tier: 'full', date: seeded.day });
    const page = renderReportHtml(await buildReport(off, seeded.deps));
    assert.equal(received.length, 0);
    assert.doesNotMatch(page, /data-summary|ai-sentence|data-ai-legend/);
  });
});

describe('the answer parser under random bytes', () => {
  test('seeded random bodies never throw: each summary is written or omitted with a reason', async () => {
    // xorshift32, seed 20: the same bodies every run.
    let state = 20;
    const next = () => {
      state ^= state << 13;
      state ^= state >>> 17;
      state ^= state << 5;
      return (state >>> 0) / 2 ** 32;
    };
    const figures = [{ id: 'F1', label: 'x', value: 1, queryId: 'Q1', derive: 'count' }];
    const shapes = [
      () => Buffer.from(Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256))),
      () => Buffer.from(JSON.stringify({ choices: [{ message: { content: next() < 0.5 ? null : 42 } }] })),
      () => Buffer.from(`{"choices":[{"message":{"content":"${'。'.repeat(Math.floor(next() * 5))}"}}]`),
    ];
    const { summarise } = await import('./summarise.ts');
    for (let i = 0; i < 300; i++) {
      const body = shapes[i % shapes.length]!();
      const fetchBody: typeof fetch = async () => new Response(body, { status: 200 });
      const summary = await summarise(
        { url: 'http://127.0.0.1:1', model: 'm', timeoutMs: 1000, maxChars: 1200 },
        'ja',
        'section',
        figures,
        fetchBody,
      );
      if (summary.outcome === 'omitted')
        assert.match(
          summary.reason,
          /^エンドポイントの応答が( JSON ではありません|チャット補完の形式ではありません|空でした)$/,
        );
      else assert.ok(summary.sentences.length > 0 && summary.sources[0] === 'F1');
    }
  });
});
