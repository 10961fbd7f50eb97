/** The collector on this machine's real /proc: a child process and a TCP connection seen come and go. */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { readFileSync, readlinkSync } from 'node:fs';
import { once } from 'node:events';
import { createConnection, createServer, type AddressInfo } from 'node:net';
import { describe, it } from 'node:test';
import type { SensorEvent } from '../src/sensor/protocol.ts';
import { Collector } from './collect.ts';
import { ExecutableHasher } from './hash/hasher.ts';
import { ProcReader } from './proc/scan.ts';

const linux = process.platform === 'linux';
const ofType = <T extends SensorEvent['type']>(events: SensorEvent[], type: T) =>
  events.filter((e): e is Extract<SensorEvent, { type: T }> => e.type === type);

describe('Collector on /proc', { skip: !linux && 'needs Linux /proc' }, () => {
  const collector = new Collector(new ProcReader(), new ExecutableHasher({ bytesPerSecond: 200e6 }), {
    userKey: Buffer.alloc(32, 7),
    hashExecutables: true,
  });

  it('sends a started process with its executable, hash and keyed user, then its end', async () => {
    await collector.scan();
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    await new Promise((r) => setTimeout(r, 100)); // past the exec
    // The first sight queues the executable's hashing; its start goes out once the digest is there.
    const seen = await collector.scan();
    await collector.hashed();
    const started = await collector.scan();
    const start = [...seen.events, ...started.events]
      .filter((e): e is Extract<SensorEvent, { type: 'process.start' }> => e.type === 'process.start')
      .find((e) => e.pid === child.pid);
    assert.ok(start, 'no process.start for the child');
    const exe = readlinkSync(`/proc/${child.pid}/exe`);
    assert.equal(start.exe, exe);
    assert.equal(start.ppid, process.pid);
    assert.equal(start.sha256, createHash('sha256').update(readFileSync(exe)).digest('hex'));
    assert.match(start.user ?? '', /^[0-9a-f]{32}$/);
    assert.notEqual(start.user, String(process.getuid?.()));
    assert.ok(Math.abs((start.startedAt ?? 0) - Date.now()) < 60_000, 'startedAt is not near now');
    // Nothing changed: nothing is sent about processes.
    assert.equal(
      ofType((await collector.scan()).events, 'process.start').filter((e) => e.pid === child.pid).length,
      0,
    );
    child.kill();
    await once(child, 'exit');
    const ended = await collector.scan();
    assert.ok(ofType(ended.events, 'process.end').some((e) => e.pid === child.pid));
  });

  it('holds a start until its digest is there, and sends it before the end of a process gone first', async () => {
    const slowHasher = new ExecutableHasher({ bytesPerSecond: 1 });
    const slow = new Collector(new ProcReader(), slowHasher, {
      userKey: Buffer.alloc(32, 7),
      hashExecutables: true,
    });
    await slow.scan();
    const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)'], { stdio: 'ignore' });
    await once(child, 'spawn');
    await new Promise((r) => setTimeout(r, 200));
    const first = await slow.scan();
    const node = (events: SensorEvent[], type: SensorEvent['type']) =>
      events.filter((e) => e.type === type && 'pid' in e && e.pid === child.pid);
    // At one byte a second (and a cache of its own, empty) node's digest is far away.
    assert.equal(node(first.events, 'process.start').length, 0, 'the start did not wait for the digest');
    assert.equal(slow.awaitingHashes >= 1, true);
    child.kill();
    await once(child, 'exit');
    const ended = await slow.scan();
    const kinds = ended.events.filter((e) => 'pid' in e && e.pid === child.pid).map((e) => e.type);
    assert.deepEqual(kinds, ['process.start', 'process.end']);
    const start = node(ended.events, 'process.start')[0] as Extract<SensorEvent, { type: 'process.start' }>;
    assert.equal(start.sha256, undefined);
    slowHasher.stop();
    await slow.hashed();
  });

  it('does not read /proc/PID/stat again for a pid no new process can have had since the last scan', async () => {
    const reader = new ProcReader();
    const quiet = new Collector(reader, new ExecutableHasher({ bytesPerSecond: 200e6 }), {
      userKey: Buffer.alloc(32, 7),
      hashExecutables: false,
    });
    await quiet.scan();
    const reads = { count: 0 };
    const stat = reader.stat.bind(reader);
    reader.stat = (pid) => {
      reads.count++;
      return stat(pid);
    };
    const second = await quiet.scan();
    // Only pids handed out between the scans (this machine is busy) are read; far fewer than all.
    assert.ok(
      reads.count < second.processes.size / 2,
      `${reads.count} of ${second.processes.size} read again`,
    );
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    await once(child, 'spawn');
    await new Promise((r) => setTimeout(r, 100));
    const third = await quiet.scan();
    assert.ok(third.processes.has(child.pid!), 'a new pid was not read');
    child.kill();
    await once(child, 'exit');
  });

  it('sends TCP sockets joined to the process holding them as they open and close', async () => {
    const server = createServer((socket) => socket.on('error', () => undefined));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const port = (server.address() as AddressInfo).port;
    await collector.scan();
    const client = createConnection(port, '127.0.0.1');
    await once(client, 'connect');
    const opened = ofType((await collector.scan()).events, 'socket.open');
    const outgoing = opened.find((e) => e.remote === `127.0.0.1:${port}`);
    assert.ok(outgoing, `no socket.open to port ${port}`);
    assert.equal(outgoing.pid, process.pid);
    assert.equal(outgoing.proto, 'tcp');
    assert.equal(outgoing.state, 'ESTABLISHED');
    client.destroy();
    server.close();
    await once(server, 'close');
    await new Promise((r) => setTimeout(r, 50));
    const closed = ofType((await collector.scan()).events, 'socket.close');
    assert.ok(closed.some((e) => e.remote === `127.0.0.1:${port}` && e.local === outgoing.local));
    assert.ok(closed.some((e) => e.local === `127.0.0.1:${port}` && e.state === 'LISTEN'));
  });
});
