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
    domains: ['c2.example.test', 'nx.example.test'],
    resolved: [
      { domain: 'c2.example.test', addresses: ['198.51.100.9', '2001:db8::99'], resolvedAt: 1 },
      // An address another listed domain shares: the connection matches both.
      { domain: 'alias.example.test', addresses: ['198.51.100.9'], resolvedAt: 1 },
    ],
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

  it("matches connections to a listed domain's resolved addresses, on any port, as the domain", () => {
    const events = matcher.match(
      new Map([[11, process2]]),
      [
        socket('198.51.100.9:8080', 11, '10.0.0.2:40001'),
        socket('[::ffff:198.51.100.9]:53', null, '[::ffff:10.0.0.2]:40002'),
        socket('[2001:db8::99]:443', 11, '[2001:db8::2]:40003'),
        socket('198.51.100.10:8080', 11, '10.0.0.2:40004'),
        socket('0.0.0.0:0', 11, '0.0.0.0:8080'),
      ],
      2000,
    );
    assert.deepEqual(
      events.map((e) => e.type === 'ioc.match' && [e.kind, e.ioc, e.pid]),
      [
        ['domain', 'c2.example.test', 11],
        ['domain', 'alias.example.test', 11],
        ['domain', 'c2.example.test', null],
        ['domain', 'alias.example.test', null],
        ['domain', 'c2.example.test', 11],
      ],
    );
    assert.equal(matcher.sizes.resolvedAddresses, 2);
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
