/**
 * One scan of the terminal, turned into differences against the previous scan: a process that
 * appeared is a `process.start`, one that went a `process.end`; a socket that appeared is a
 * `socket.open`, one that went a `socket.close`. Nothing is sent for what did not change.
 */
import { createHmac } from 'node:crypto';
import type { SensorEvent } from '../src/sensor/protocol.ts';
import type { ExecutableHasher } from './hash/hasher.ts';
import type { NetRow } from './proc/parse.ts';
import type { ProcReader } from './proc/scan.ts';

export interface KnownProcess {
  pid: number;
  ppid: number;
  startTicks: number;
  startedAt: number;
  exe?: string;
  sha256?: string;
  user?: string;
}

export interface KnownSocket extends NetRow {
  pid: number | null;
}

export interface ScanResult {
  events: SensorEvent[];
  processes: ReadonlyMap<number, KnownProcess>;
  /** Every socket seen, including those no process holds (inode 0), which are not diffed. */
  sockets: readonly KnownSocket[];
  /** Processes whose executable was hashed in this scan or earlier: what IoC matching reads. */
  newProcesses: KnownProcess[];
  newSockets: KnownSocket[];
}

export interface CollectorOptions {
  /** Key of the keyed hash of uids: the terminal's, never sent. */
  userKey: Buffer;
  hashExecutables: boolean;
}

/** Marks a socket inode that no process visible here holds. */
const NO_OWNER = -1;

const socketKey = (row: NetRow) => `${row.proto} ${row.local} ${row.remote} ${row.inode}`;

export class Collector {
  private processes = new Map<number, KnownProcess>();
  private sockets = new Map<string, KnownSocket>();
  /** Socket inode -> pid, from the fd links of the last sweep. */
  private owners = new Map<number, number>();
  /** Pids of kernel threads at the last scan: not read again while no pid was handed out that could be theirs. */
  private kernelThreads = new Set<number>();
  /** Processes whose process.start waits for their executable's digest. */
  private readonly awaiting = new Map<KnownProcess, { done: boolean; hashed: Promise<void> }>();
  fdSweeps = 0;

  constructor(
    private readonly proc: ProcReader,
    private readonly hasher: ExecutableHasher,
    private options: CollectorOptions,
  ) {}

  setHashExecutables(on: boolean): void {
    this.options = { ...this.options, hashExecutables: on };
  }

  private userOf(uid: number | undefined): string | undefined {
    if (uid === undefined) return undefined;
    // 128 bits of the HMAC: as unlinkable without the key, and half the bytes on every event.
    return createHmac('sha256', this.options.userKey).update(String(uid)).digest('hex').slice(0, 32);
  }

  async scan(now = Date.now()): Promise<ScanResult> {
    const events: SensorEvent[] = [];
    const { current, started } = this.scanProcesses(events, now);
    this.processes = current;
    const { sockets, newSockets } = this.scanSockets(events, now);
    return { events, processes: current, sockets, newProcesses: started, newSockets };
  }

  /** Resolves when every executable queued so far is hashed (their starts go out at the next scan). */
  async hashed(): Promise<void> {
    await Promise.all([...this.awaiting.values()].map((entry) => entry.hashed));
  }

  /** Processes seen whose executable is still being hashed (their process.start waits for it). */
  get awaitingHashes(): number {
    return this.awaiting.size;
  }

  /** Known processes under the same pid and start are carried over; a pid no new one can have is not read again. */
  private scanProcesses(events: SensorEvent[], now: number) {
    const current = new Map<number, KnownProcess>();
    const started: KnownProcess[] = [];
    const kernelThreads = new Set<number>();
    for (const pid of this.proc.pids()) {
      const known = this.processes.get(pid);
      const unchanged = !this.proc.mayBeReused(pid);
      if (unchanged && known) {
        current.set(pid, known);
        continue;
      }
      if (unchanged && this.kernelThreads.has(pid)) {
        kernelThreads.add(pid);
        continue;
      }
      const stat = this.proc.stat(pid);
      if (!stat) {
        if (this.proc.lastWasKernelThread) kernelThreads.add(pid);
        continue;
      }
      if (known && known.startTicks === stat.startTicks) {
        current.set(pid, known);
        continue;
      }
      const process = this.describe(stat);
      current.set(pid, process);
      if (this.hashLater(process)) started.push(process);
    }
    this.kernelThreads = kernelThreads;
    for (const [pid, known] of this.processes) {
      if (current.get(pid) === known) continue;
      // It ended before its executable's turn came: what ran is still reported, without a hash.
      if (this.awaiting.delete(known)) events.push(startEvent(known, now));
      events.push({ type: 'process.end', at: now, pid });
    }
    for (const [process, settled] of this.awaiting) {
      if (!settled.done) continue;
      this.awaiting.delete(process);
      started.push(process);
    }
    for (const process of started) events.push(startEvent(process, now));
    return { current, started };
  }

  private describe(stat: { pid: number; ppid: number; startTicks: number }): KnownProcess {
    const info = this.proc.describe(stat);
    return {
      pid: stat.pid,
      ppid: info.ppid,
      startTicks: info.startTicks,
      startedAt: info.startedAt,
      ...(info.exe === undefined ? {} : { exe: info.exe }),
      ...(info.uid === undefined ? {} : { user: this.userOf(info.uid) }),
    };
  }

  /**
   * Gives the process its executable's digest when the cache has it (true: start it now);
   * otherwise queues the hashing at the hasher's rate and holds the process.start until the
   * digest is there (false), so a first scan of many executables does not hash them in one gulp
   * nor hold up the socket scan and IoC matching behind them.
   */
  private hashLater(process: KnownProcess): boolean {
    if (!this.options.hashExecutables || process.exe === undefined) return true;
    const path = this.proc.exePath(process.pid);
    const found = this.hasher.lookup(path);
    if (!found) return true;
    if (found.sha256) {
      process.sha256 = found.sha256;
      return true;
    }
    const settled = { done: false, hashed: Promise.resolve() };
    settled.hashed = this.hasher.hashLater(path, found).then((sha256) => {
      if (sha256) process.sha256 = sha256;
      settled.done = true;
    });
    this.awaiting.set(process, settled);
    return false;
  }

  private scanSockets(events: SensorEvent[], now: number) {
    const rows = this.proc.sockets();
    const unknown = new Set(
      rows.filter((row) => row.inode !== 0 && !this.owners.has(row.inode)).map((row) => row.inode),
    );
    if (unknown.size > 0) this.findOwners(unknown);
    const present = new Set(rows.map((row) => row.inode));
    for (const inode of this.owners.keys()) if (!present.has(inode)) this.owners.delete(inode);
    const sockets: KnownSocket[] = [];
    const next = new Map<string, KnownSocket>();
    const newSockets: KnownSocket[] = [];
    for (const row of rows) {
      const owner = this.owners.get(row.inode);
      const socket: KnownSocket = { ...row, pid: owner === undefined || owner === NO_OWNER ? null : owner };
      sockets.push(socket);
      // Sockets no process holds (TIME_WAIT) churn fast and say nothing of a process: not diffed.
      if (row.inode === 0) continue;
      const key = socketKey(row);
      const known = this.sockets.get(key);
      next.set(key, known ?? socket);
      if (!known) newSockets.push(socket);
    }
    for (const [key, socket] of this.sockets) {
      if (!next.has(key)) events.push(socketEvent('socket.close', socket, now));
    }
    for (const socket of newSockets) events.push(socketEvent('socket.open', socket, now));
    this.sockets = next;
    return { sockets, newSockets };
  }

  /**
   * Which process holds each of `unknown` socket inodes, from the processes' fd links: the
   * youngest processes first (a new socket is most often a new process's), stopping as soon as
   * every inode is found. An inode no visible process holds (another pid namespace's) is
   * remembered as ownerless, so it does not cost a sweep every scan.
   */
  private findOwners(unknown: Set<number>): void {
    this.fdSweeps++;
    const youngestFirst = [...this.processes.values()].sort((a, b) => b.startTicks - a.startTicks);
    for (const process of youngestFirst) {
      for (const inode of this.proc.socketInodes(process.pid)) {
        if (!this.owners.has(inode) || unknown.has(inode)) this.owners.set(inode, process.pid);
        unknown.delete(inode);
      }
      if (unknown.size === 0) return;
    }
    for (const inode of unknown) this.owners.set(inode, NO_OWNER);
  }
}

function startEvent(process: KnownProcess, at: number): SensorEvent {
  const { startTicks: _ticks, ...fields } = process;
  return { type: 'process.start', at, ...fields };
}

function socketEvent(type: 'socket.open' | 'socket.close', socket: KnownSocket, at: number): SensorEvent {
  return {
    type,
    at,
    pid: socket.pid,
    proto: socket.proto,
    local: socket.local,
    remote: socket.remote,
    state: socket.state,
  };
}
