/**
 * Parsers of /proc text. Each takes the file's text and returns null (or skips a line) on
 * anything it does not understand, never throws: /proc is kernel-written, but a parser that a
 * strange line can crash would take the whole sensor down with it (fuzzed in parse.test.ts).
 */
import { endianness } from 'node:os';

/** What the sensor reads of /proc/PID/stat. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** Kernel flags (PF_*): kernel threads have PF_KTHREAD and no executable. */
  flags: number;
  /** Clock ticks after boot when the process started (with pid, it names the process uniquely). */
  startTicks: number;
}

const PF_KTHREAD = 0x00200000;

export function isKernelThread(stat: ProcStat): boolean {
  return (stat.flags & PF_KTHREAD) !== 0 || stat.pid === 2 || stat.ppid === 2;
}

/** /proc/PID/stat: "pid (comm) state ppid pgrp ... flags ... starttime ...". */
export function parseStat(text: string): ProcStat | null {
  // comm may hold spaces and parentheses: the fields after it start at the last ")".
  const open = text.indexOf(' (');
  const close = text.lastIndexOf(')');
  if (open < 1 || close < open) return null;
  const pid = Number(text.slice(0, open));
  const rest = text
    .slice(close + 1)
    .trim()
    .split(' ');
  // rest[0] is field 3 (state): field N is rest[N - 3].
  const ppid = Number(rest[1]);
  const flags = Number(rest[6]);
  const startTicks = Number(rest[19]);
  if (![pid, ppid, flags, startTicks].every((n) => Number.isSafeInteger(n) && n >= 0)) return null;
  return { pid, ppid, flags, startTicks };
}

/** The real uid from /proc/PID/status ("Uid:\treal\teffective\tsaved\tfs"). */
export function parseStatusUid(text: string): number | null {
  const match = /^Uid:\s+(\d+)/m.exec(text);
  if (!match) return null;
  const uid = Number(match[1]);
  return Number.isSafeInteger(uid) ? uid : null;
}

/** Seconds since the epoch when the machine booted, from /proc/stat's "btime" line. */
export function parseBootTime(text: string): number | null {
  const match = /^btime\s+(\d+)\s*$/m.exec(text);
  return match ? Number(match[1]) : null;
}

/** The socket inode of an fd link's target ("socket:[12345]"), or null for any other file. */
/** The pid the kernel handed out last: the fifth field of /proc/loadavg ("0.52 0.58 0.59 3/812 421337"). */
export function parseLastPid(text: string): number | null {
  const match = /^\S+ \S+ \S+ \d+\/\d+ (\d+)\s*$/.exec(text);
  return match ? Number(match[1]) : null;
}

/**
 * Whether `pid` may have been handed out again between two readings of the last pid (`from`
 * then `to`): the kernel allocates pids upwards and wraps at pid_max, so the pids allocated in
 * between are (from, to], or (from, max) and [1, to] after a wrap. Unknown readings say yes.
 */
export function pidAllocatedBetween(pid: number, from: number | null, to: number | null): boolean {
  if (from === null || to === null) return true;
  if (from === to) return false;
  return from < to ? pid > from && pid <= to : pid > from || pid <= to;
}

export function socketInodeOfLink(target: string): number | null {
  const match = /^socket:\[(\d+)\]$/.exec(target);
  if (!match) return null;
  const inode = Number(match[1]);
  return Number.isSafeInteger(inode) ? inode : null;
}

export type SocketProto = 'tcp' | 'udp' | 'tcp6' | 'udp6';

/** One row of /proc/net/{tcp,udp,tcp6,udp6}. */
export interface NetRow {
  proto: SocketProto;
  /** "1.2.3.4:443" or "[2001:db8::1]:443" (RFC 5952 text). */
  local: string;
  remote: string;
  state: string;
  /** 0 for sockets no process holds (TIME_WAIT, say). */
  inode: number;
}

const TCP_STATES: Record<string, string> = {
  '01': 'ESTABLISHED',
  '02': 'SYN_SENT',
  '03': 'SYN_RECV',
  '04': 'FIN_WAIT1',
  '05': 'FIN_WAIT2',
  '06': 'TIME_WAIT',
  '07': 'CLOSE',
  '08': 'CLOSE_WAIT',
  '09': 'LAST_ACK',
  '0A': 'LISTEN',
  '0B': 'CLOSING',
  '0C': 'NEW_SYN_RECV',
};

const LITTLE_ENDIAN = endianness() === 'LE';

/** The kernel prints each 32-bit word of an address in host byte order. */
function wordBytes(hex: string): number[] | null {
  if (!/^[0-9A-Fa-f]{8}$/.test(hex)) return null;
  const bytes = [0, 2, 4, 6].map((i) => parseInt(hex.slice(i, i + 2), 16));
  return LITTLE_ENDIAN ? bytes.reverse() : bytes;
}

/** RFC 5952 text of 16 bytes: lowercase, the longest run of two or more zero groups as "::". */
export function formatIpv6(bytes: readonly number[]): string {
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i] ?? 0) << 8) | (bytes[i + 1] ?? 0));
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLength) [bestStart, bestLength] = [i, j - i];
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

/** "0100007F:1F90" (IPv4) or 32 hex digits + ":PORT" (IPv6) as "127.0.0.1:8080" / "[::1]:8080". */
export function decodeAddress(text: string, ipv6: boolean): string | null {
  const colon = text.indexOf(':');
  const hexAddress = text.slice(0, colon);
  const hexPort = text.slice(colon + 1);
  if (colon < 0 || !/^[0-9A-Fa-f]{4}$/.test(hexPort)) return null;
  const port = parseInt(hexPort, 16);
  const words = hexAddress.length === (ipv6 ? 32 : 8) ? hexAddress.match(/.{8}/g) : null;
  const bytes: number[] = [];
  for (const word of words ?? []) {
    const decoded = wordBytes(word);
    if (!decoded) return null;
    bytes.push(...decoded);
  }
  if (bytes.length !== (ipv6 ? 16 : 4)) return null;
  return ipv6 ? `[${formatIpv6(bytes)}]:${port}` : `${bytes.join('.')}:${port}`;
}

/** Rows of one /proc/net table; lines that do not parse are skipped and counted. */
export function parseNetTable(text: string, proto: SocketProto): { rows: NetRow[]; badLines: number } {
  const ipv6 = proto.endsWith('6');
  const tcp = proto.startsWith('tcp');
  const rows: NetRow[] = [];
  let badLines = 0;
  const lines = text.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const fields = line.split(/\s+/);
    const local = decodeAddress(fields[1] ?? '', ipv6);
    const remote = decodeAddress(fields[2] ?? '', ipv6);
    const stateCode = (fields[3] ?? '').toUpperCase();
    const inode = Number(fields[9]);
    if (!local || !remote || !/^[0-9A-F]{2}$/.test(stateCode) || !Number.isSafeInteger(inode) || inode < 0) {
      badLines++;
      continue;
    }
    // UDP reuses the TCP state numbers: 07 is an unconnected socket, 01 a connected one.
    const state = tcp
      ? (TCP_STATES[stateCode] ?? stateCode)
      : stateCode === '01'
        ? 'CONNECTED'
        : 'UNCONNECTED';
    rows.push({ proto, local, remote, state, inode });
  }
  return { rows, badLines };
}
