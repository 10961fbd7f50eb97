/**
 * The certstream intake against a real websocket server on loopback (the `ws` package's server
 * speaking certstream's message format): names scored, non-benign ones stored and handed on,
 * junk frames counted; and a seeded fuzz of the frame parser.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseCertstreamFrame } from './index.ts';
import { startCertstreamRun } from './testing.ts';

const certificate = (domains: string[], seen = 1751328000.5) =>
  JSON.stringify({
    message_type: 'certificate_update',
    data: {
      update_type: 'X509LogEntry',
      leaf_cert: { all_domains: domains, issuer: { O: "Let's Encrypt" } },
      seen,
      source: { name: 'test log', url: 'ct.example/' },
    },
  });

test('certificate names from a certstream websocket are scored, stored and handed on', async () => {
  const run = await startCertstreamRun((socket) => {
    socket.send(JSON.stringify({ message_type: 'heartbeat', timestamp: 1 }));
    socket.send('not json {');
    socket.send(
      certificate(['*.mercari-jp.duckdns.org', 'mercari-jp.duckdns.org', 'www.wikipedia.org', 'bad..name']),
    );
    socket.send(
      JSON.stringify({ message_type: 'dns_entries', data: ['smbc-card-login.duckdns.org', 'example.org'] }),
    );
    socket.send(JSON.stringify({ message_type: 'done' }));
  });
  const { web, db, intake, handed } = run;
  try {
    await intake.start();
    await intake.connected;
    await run.settleWhen(() => intake.stats.badFrames >= 2);
    assert.deepEqual(intake.stats, {
      updates: 2,
      names: 5,
      badFrames: 2,
      badNames: 1,
      kept: 2,
      reconnects: 0,
    });
    const expected = ['mercari-jp.duckdns.org', 'smbc-card-login.duckdns.org'];
    for (const host of expected) assert.notEqual(web.score(`https://${host}/`).verdict, 'benign', host);
    assert.deepEqual(
      handed.map((s) => s.host),
      expected,
    );
    const stored = await db.selectFrom('web_sightings').selectAll().orderBy('url').execute();
    assert.deepEqual(
      stored.map((s) => [s.source, s.url]),
      expected.map((host) => ['certstream', `https://${host}/`]),
    );
    assert.equal(stored[0]!.first_seen, '2025-07-01T00:00:00.500Z', "the log's time, not the receipt's");
  } finally {
    await run.close();
  }
});

test('fuzz: random frames parse to an update, a heartbeat or bad, never a throw', () => {
  let seed = 0xce57;
  const next = () => {
    seed = (Math.imul(seed, 1664525) + 1013904223) >>> 0;
    return seed / 2 ** 32;
  };
  const pieces = [
    '{',
    '}',
    '[',
    ']',
    '"message_type"',
    ':',
    '"certificate_update"',
    '"dns_entries"',
    '"data"',
    '"leaf_cert"',
    '"all_domains"',
    ',',
    'null',
    '1e400',
    '"*.a.b"',
    '"seen"',
    '-1',
  ];
  let updates = 0;
  for (let i = 0; i < 20_000; i++) {
    let text = '';
    for (let j = Math.floor(next() * 14); j > 0; j--)
      text +=
        next() < 0.8
          ? pieces[Math.floor(next() * pieces.length)]
          : String.fromCharCode(Math.floor(next() * 256));
    const frame = parseCertstreamFrame(text);
    assert.ok(['update', 'heartbeat', 'bad'].includes(frame.kind));
    if (frame.kind === 'update') updates++;
  }
  // Each shape the parser takes, decided exactly.
  const now = () => new Date('2025-07-01T00:00:00Z');
  assert.deepEqual(
    parseCertstreamFrame('{"message_type":"dns_entries","data":["*.A.example","a.example",7]}', now),
    {
      kind: 'update',
      update: {
        domains: ['a.example'],
        seenAt: '2025-07-01T00:00:00.000Z',
        issuerOrg: null,
        certificate: null,
      },
    },
  );
  assert.deepEqual(parseCertstreamFrame('{"message_type":"heartbeat"}'), { kind: 'heartbeat' });
  assert.deepEqual(parseCertstreamFrame('{"message_type":"certificate_update","data":{}}'), { kind: 'bad' });
  assert.ok(updates < 20_000);
});
