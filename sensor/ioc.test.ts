import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { KnownProcess, KnownSocket } from './collect.ts';
import { IocMatcher, normaliseIpPort } from './ioc.ts';

const BAD = 'a'.repeat(64);
const process1: KnownProcess = {
  pid: 10,
  ppid: 1,
  startTicks: 5,
  startedAt: 0,
  exe: '/tmp/bad',
  sha256: BAD,
};
const process2: KnownProcess = {
  pid: 11,
  ppid: 1,
  startTicks: 6,
  startedAt: 0,
  exe: '/usr/bin/curl',
  sha256: 'b'.repeat(64),
};
const socket = (remote: string, pid: number | null, local = '10.0.0.2:40000'): KnownSocket => ({
  proto: remote.startsWith('[') ? 'tcp6' : 'tcp',
  local,
  remote,
  state: 'ESTABLISHED',
  inode: pid === null ? 0 : 99,
  pid,
});

describe('IocMatcher', () => {
  const matcher = new IocMatcher();
  matcher.load({
    version: 3,
    sha256: [BAD.toUpperCase()],
    ipPorts: ['192.0.2.7:443', '[2001:DB8::1]:8443'],
    domains: [],
  });
  const processes = new Map([
    [10, process1],
    [11, process2],
  ]);

  it('matches executables by SHA-256 and connections by remote IP:port, IPv4 peers on IPv6 sockets too', () => {
    const events = matcher.match(
      processes,
      [
        socket('192.0.2.7:443', 11),
        socket('[::ffff:192.0.2.7]:443', null, '[::ffff:10.0.0.2]:1'),
        socket('[2001:db8::1]:8443', 11),
        socket('192.0.2.7:80', 11),
      ],
      1000,
    );
    assert.deepEqual(
      events.map((e) => e.type === 'ioc.match' && [e.kind, e.ioc, e.pid, e.exe]),
      [
        ['sha256', BAD, 10, '/tmp/bad'],
        ['ip-port', '192.0.2.7:443', 11, '/usr/bin/curl'],
        ['ip-port', '192.0.2.7:443', null, undefined],
        ['ip-port', '[2001:db8::1]:8443', 11, '/usr/bin/curl'],
      ],
    );
  });

  it('reports a match once while it holds, and again when it comes back', () => {
    const sockets = [socket('192.0.2.7:443', 11)];
    matcher.match(processes, sockets, 1);
    assert.equal(matcher.match(processes, sockets, 2).length, 0);
    // The same connection lingering in TIME_WAIT (no owner) is not a new match.
    assert.equal(matcher.match(processes, [socket('192.0.2.7:443', null)], 3).length, 0);
    assert.equal(matcher.match(new Map(), [], 4).length, 0);
    assert.equal(matcher.match(processes, sockets, 5).length, 2);
  });

  it('normalises IPv4-mapped peers and case', () => {
    assert.equal(normaliseIpPort('[::FFFF:1.2.3.4]:80'), '1.2.3.4:80');
    assert.equal(normaliseIpPort('[2001:DB8::1]:80'), '[2001:db8::1]:80');
  });
});
