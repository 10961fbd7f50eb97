/**
 * Reads processes and sockets from /proc with plain file reads: no shell, no child process, no
 * netlink. Synchronous reads on purpose: /proc files are generated in memory by the kernel, and
 * one blocking read is cheaper than a trip through libuv's thread pool per file.
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { join } from 'node:path';
import {
  isKernelThread,
  parseBootTime,
  parseLastPid,
  parseNetTable,
  pidAllocatedBetween,
  parseStat,
  parseStatusUid,
  socketInodeOfLink,
  type NetRow,
  type SocketProto,
} from './parse.ts';

/** The kernel reports process times in USER_HZ ticks, 100 a second on every Linux architecture node runs on. */
const USER_HZ = 100;

export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Start time in ticks after boot: (pid, startTicks) names one process even when pids are reused. */
  startTicks: number;
  /** ms since the Unix epoch. */
  startedAt: number;
  /** The executable's path, or undefined when it cannot be read (another user's process without root). */
  exe?: string;
  uid?: number;
}

function readText(path: string): string | null {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return null;
  }
}

function readLink(path: string): string | null {
  try {
    return readlinkSync(path);
  } catch {
    return null;
  }
}

export class ProcReader {
  private readonly bootMs: number;
  /** Counted, never thrown: lines or files /proc gave that did not parse. */
  parseErrors = 0;
  /** Whether the last stat() found a kernel thread (which it answers null for). */
  lastWasKernelThread = false;
  /** The kernel's last allocated pid at the previous and at this scan (null when unknown). */
  private lastPidBefore: number | null = null;
  private lastPidNow: number | null = null;

  constructor(readonly root = '/proc') {
    this.bootMs = (parseBootTime(readText(join(root, 'stat')) ?? '') ?? 0) * 1000;
  }

  /**
   * The pids of /proc now. Also reads the kernel's last allocated pid, so that `mayBeReused`
   * can tell which pids a scan already knows cannot name another process since the last one.
   */
  pids(): number[] {
    let names: string[];
    try {
      names = readdirSync(this.root);
    } catch {
      names = [];
    }
    // Read after the listing: a pid handed out again before this reading falls in the range the
    // next scan checks, one handed out after it was not in this listing as the new process.
    this.lastPidBefore = this.lastPidNow;
    this.lastPidNow = parseLastPid(readText(join(this.root, 'loadavg')) ?? '');
    return names.filter((name) => /^\d+$/.test(name)).map(Number);
  }

  /**
   * False when no pid was handed out between the previous scan and this one that could be
   * `pid`: a process known at the previous scan under this pid is still the same process, and
   * its /proc/PID/stat need not be read again. Only pid allocation since then makes it true.
   */
  mayBeReused(pid: number): boolean {
    return pidAllocatedBetween(pid, this.lastPidBefore, this.lastPidNow);
  }

  /** pid, ppid and start of one process; null when it has gone or is a kernel thread (then `lastWasKernelThread`). */
  stat(pid: number): { pid: number; ppid: number; startTicks: number } | null {
    this.lastWasKernelThread = false;
    const text = readText(join(this.root, String(pid), 'stat'));
    if (text === null) return null;
    const stat = parseStat(text);
    if (!stat) {
      this.parseErrors++;
      return null;
    }
    this.lastWasKernelThread = isKernelThread(stat);
    return this.lastWasKernelThread ? null : stat;
  }

  /** The rest of what is known of a process the scan has not seen before. */
  describe(stat: { pid: number; ppid: number; startTicks: number }): ProcessInfo {
    const dir = join(this.root, String(stat.pid));
    const rawExe = readLink(join(dir, 'exe'));
    const status = readText(join(dir, 'status'));
    const uid = status === null ? null : parseStatusUid(status);
    return {
      ...stat,
      startedAt: Math.round(this.bootMs + (stat.startTicks * 1000) / USER_HZ),
      ...(rawExe === null ? {} : { exe: rawExe }),
      ...(uid === null ? {} : { uid }),
    };
  }

  /** The path to open for the executable's bytes: /proc/PID/exe works even when the file was deleted. */
  exePath(pid: number): string {
    return join(this.root, String(pid), 'exe');
  }

  /** Socket inodes a process holds, from its fd links. */
  socketInodes(pid: number): number[] {
    const dir = join(this.root, String(pid), 'fd');
    let fds: string[];
    try {
      fds = readdirSync(dir);
    } catch {
      return [];
    }
    const inodes: number[] = [];
    for (const fd of fds) {
      const target = readLink(join(dir, fd));
      const inode = target === null ? null : socketInodeOfLink(target);
      if (inode !== null) inodes.push(inode);
    }
    return inodes;
  }

  /** Every TCP and UDP socket of this network namespace, IPv4 and IPv6. */
  sockets(): NetRow[] {
    const rows: NetRow[] = [];
    for (const proto of ['tcp', 'udp', 'tcp6', 'udp6'] as SocketProto[]) {
      const text = readText(join(this.root, 'net', proto));
      if (text === null) continue; // no IPv6 in this kernel or namespace
      const table = parseNetTable(text, proto);
      this.parseErrors += table.badLines;
      rows.push(...table.rows);
    }
    return rows;
  }
}
