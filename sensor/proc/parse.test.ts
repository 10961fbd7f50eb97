import assert from 'node:assert/strict';
import { endianness } from 'node:os';
import { describe, it } from 'node:test';
import {
  parseLastPid,
  pidAllocatedBetween,
  decodeAddress,
  formatIpv6,
  isKernelThread,
  parseBootTime,
  parseNetTable,
  parseStat,
  parseStatusUid,
  socketInodeOfLink,
} from './parse.ts';

const STAT =
  '4242 (my (odd) prog) S 17 4242 4242 0 -1 4194560 100 0 0 0 3 1 0 0 20 0 1 0 123456 3133440 413 ' +
  '18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n';

// Lines as a little-endian kernel prints them (the test machines are x86-64 or arm64).
const TCP = `  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 0100007F:1F90 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 31337 1 0000000000000000 100 0 0 10 0
   1: 0100007F:C350 0100007F:1F90 01 00000000:00000000 00:00000000 00000000  1000        0 31338 1 0000000000000000 20 4 30 10 -1
   2: 0100007F:C351 0100007F:1F90 06 00000000:00000000 03:00000E5A 00000000     0        0 0 3 0000000000000000
   3: garbage line
`;
const TCP6 = `  sl  local_address                         remote_address                        st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode
   0: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 5254 1 0000000000000000 100 0 0 10 0
   1: B80D0120000000000000000001000000:01BB 0000000000000000FFFF00000100007F:D431 01 00000000:00000000 00:00000000 00000000     0        0 777 1 0000000000000000 100 0 0 10 0
`;
const UDP = `   sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode ref pointer drops
  123: 00000000:0044 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 999 2 0000000000000000 0
`;

describe('parsers of /proc', { skip: endianness() !== 'LE' && 'the fixtures are little-endian' }, () => {
  it('reads pid, ppid, flags and start from stat, past a comm holding spaces and parentheses', () => {
    assert.deepEqual(parseStat(STAT), { pid: 4242, ppid: 17, flags: 4194560, startTicks: 123456 });
    assert.equal(parseStat('4242 (x) S'), null);
    assert.equal(parseStat(''), null);
  });

  it('tells kernel threads by PF_KTHREAD or kthreadd', () => {
    assert.equal(isKernelThread({ pid: 9, ppid: 2, flags: 0x00208040, startTicks: 1 }), true);
    assert.equal(isKernelThread({ pid: 2, ppid: 0, flags: 0, startTicks: 1 }), true);
    assert.equal(isKernelThread({ pid: 900, ppid: 1, flags: 4194560, startTicks: 1 }), false);
  });

  it('reads the real uid, the boot time and socket links', () => {
    assert.equal(parseStatusUid('Name:\tx\nUid:\t1000\t0\t0\t0\nGid:\t1\n'), 1000);
    assert.equal(parseStatusUid('Name:\tx\n'), null);
    assert.equal(parseBootTime('cpu  1 2 3\nbtime 1700000000\nprocesses 5\n'), 1700000000);
    assert.equal(socketInodeOfLink('socket:[31337]'), 31337);
    assert.equal(socketInodeOfLink('/dev/null'), null);
    assert.equal(socketInodeOfLink('anon_inode:[eventfd]'), null);
  });

  it('decodes IPv4 and IPv6 addresses in host byte order and RFC 5952 text', () => {
    assert.equal(decodeAddress('0100007F:1F90', false), '127.0.0.1:8080');
    assert.equal(decodeAddress('00000000000000000000000001000000:0050', true), '[::1]:80');
    assert.equal(decodeAddress('B80D0120000000000000000001000000:01BB', true), '[2001:db8::1]:443');
    assert.equal(decodeAddress('0000000000000000FFFF00000100007F:D431', true), '[::ffff:127.0.0.1]:54321');
    assert.equal(decodeAddress('0100007F', false), null);
    assert.equal(decodeAddress('0100007G:0050', false), null);
    assert.equal(formatIpv6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1]), '2001:db8:0:1::1');
    assert.equal(
      formatIpv6([0x20, 1, 0xd, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1]),
      '2001:db8:0:1:1:1:1:1',
    );
    assert.equal(formatIpv6(new Array(16).fill(0)), '::');
  });

  it('reads the socket tables, skipping and counting lines it cannot parse', () => {
    const tcp = parseNetTable(TCP, 'tcp');
    assert.equal(tcp.badLines, 1);
    assert.deepEqual(tcp.rows, [
      { proto: 'tcp', local: '127.0.0.1:8080', remote: '0.0.0.0:0', state: 'LISTEN', inode: 31337 },
      {
        proto: 'tcp',
        local: '127.0.0.1:50000',
        remote: '127.0.0.1:8080',
        state: 'ESTABLISHED',
        inode: 31338,
      },
      { proto: 'tcp', local: '127.0.0.1:50001', remote: '127.0.0.1:8080', state: 'TIME_WAIT', inode: 0 },
    ]);
    assert.deepEqual(parseNetTable(TCP6, 'tcp6').rows[1], {
      proto: 'tcp6',
      local: '[2001:db8::1]:443',
      remote: '[::ffff:127.0.0.1]:54321',
      state: 'ESTABLISHED',
      inode: 777,
    });
    assert.deepEqual(parseNetTable(UDP, 'udp').rows, [
      { proto: 'udp', local: '0.0.0.0:68', remote: '0.0.0.0:0', state: 'UNCONNECTED', inode: 999 },
    ]);
  });
});

/** A small seeded generator (mulberry32), so a failing case can be replayed from its seed. */
function random(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('pid allocation between two scans', () => {
  it('reads the last pid of /proc/loadavg, and nothing from what is not loadavg', () => {
    assert.equal(parseLastPid('0.52 0.58 0.59 3/812 421337\n'), 421337);
    assert.equal(parseLastPid('0.52 0.58 0.59 3/812'), null);
    assert.equal(parseLastPid(''), null);
  });

  it('says which pids may name a new process: those handed out since, across a wrap too', () => {
    assert.equal(pidAllocatedBetween(500, 400, 400), false);
    assert.equal(pidAllocatedBetween(450, 400, 500), true);
    assert.equal(pidAllocatedBetween(400, 400, 500), false);
    assert.equal(pidAllocatedBetween(501, 400, 500), false);
    // Past pid_max the kernel starts again from low pids.
    assert.equal(pidAllocatedBetween(4_000_000, 3_999_000, 320), true);
    assert.equal(pidAllocatedBetween(300, 3_999_000, 320), true);
    assert.equal(pidAllocatedBetween(1000, 3_999_000, 320), false);
    // Unknown readings: every pid is read again.
    assert.equal(pidAllocatedBetween(1000, null, 320), true);
    assert.equal(pidAllocatedBetween(1000, 5, null), true);
  });
});

describe('parsers of /proc, fuzzed', () => {
  const seeds = [1, 2, 3, 4, 5, 6, 7, 8];
  const samples = [STAT, TCP, TCP6, UDP, 'Uid:\t0\t0\t0\t0\n', 'btime 1\n'];

  function mutate(text: string, next: () => number): string {
    const bytes = Buffer.from(text, 'latin1');
    const edits = 1 + Math.floor(next() * 8);
    for (let i = 0; i < edits; i++) {
      const at = Math.floor(next() * bytes.length);
      const choice = next();
      if (choice < 0.4) bytes[at] = Math.floor(next() * 256);
      else if (choice < 0.7) bytes[at] = ' ():\n0F'.charCodeAt(Math.floor(next() * 7));
      else return bytes.subarray(0, at).toString('latin1');
    }
    return bytes.toString('latin1');
  }

  for (const seed of seeds) {
    it(`never throws on mutated or random text (seed ${seed})`, () => {
      const next = random(seed);
      for (let round = 0; round < 2000; round++) {
        const text =
          round % 4 === 0
            ? Buffer.from(
                Array.from({ length: Math.floor(next() * 300) }, () => Math.floor(next() * 256)),
              ).toString('latin1')
            : mutate(samples[round % samples.length]!, next);
        parseStat(text);
        parseStatusUid(text);
        parseBootTime(text);
        socketInodeOfLink(text);
        for (const proto of ['tcp', 'udp', 'tcp6', 'udp6'] as const) {
          const { rows, badLines } = parseNetTable(text, proto);
          assert.ok(badLines >= 0);
          for (const row of rows) assert.match(row.local, /:\d+$/);
        }
        decodeAddress(text, false);
        decodeAddress(text, true);
      }
    });
  }
});
