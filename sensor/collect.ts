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
    const { current, started } = await this.scanProcesses(events, now);
    this.processes = current;
    const { sockets, newSockets } = this.scanSockets(events, now);
    return { events, processes: current, sockets, newProcesses: started, newSockets };
  }

  private async scanProcesses(events: SensorEvent[], now: number) {
    const current = new Map<number, KnownProcess>();
    const started: KnownProcess[] = [];
    for (const pid of this.proc.pids()) {
      const stat = this.proc.stat(pid);
      if (!stat) continue;
      const known = this.processes.get(pid);
      if (known && known.startTicks === stat.startTicks) {
        current.set(pid, known);
        continue;
      }
      const info = this.proc.describe(stat);
      const process: KnownProcess = {
        pid,
        ppid: info.ppid,
        startTicks: info.startTicks,
        startedAt: info.startedAt,
        ...(info.exe === undefined ? {} : { exe: info.exe }),
        ...(info.uid === undefined ? {} : { user: this.userOf(info.uid) }),
      };
      if (this.options.hashExecutables && info.exe !== undefined) {
        const sha256 = await this.hasher.sha256(this.proc.exePath(pid));
        if (sha256) process.sha256 = sha256;
      }
      current.set(pid, process);
      started.push(process);
    }
    for (const [pid, known] of this.processes) {
      const now_ = current.get(pid);
      if (!now_ || now_.startTicks !== known.startTicks) events.push({ type: 'process.end', at: now, pid });
    }
    for (const process of started) {
      const { startTicks: _ticks, ...fields } = process;
      events.push({ type: 'process.start', at: now, ...fields });
    }
    return { current, started };
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
