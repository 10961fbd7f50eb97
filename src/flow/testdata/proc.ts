/**
 * Process helpers for the flow benchmark: CPU time from /proc/PID/stat, UDP socket queue and
 * drop counters from /proc/net/udp, and child processes with bounded waits.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import { readdirSync, readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';

const CLOCK_TICKS_PER_SECOND = 100;

export interface CpuTimes {
  user: number;
  system: number;
}

/**
 * CPU seconds in user and kernel mode used by process `pid` (all threads, live and exited),
 * from fields 14 and 15 of /proc/PID/stat.
 */
export function readCpuTimes(pid: number): CpuTimes {
  return parseCpuTimes(readFileSync(`/proc/${pid}/stat`, 'latin1'));
}

/** user + system seconds of process `pid`. */
export function readCpuSeconds(pid: number): number {
  const { user, system } = readCpuTimes(pid);
  return user + system;
}

/**
 * CPU seconds of `pid` and every live descendant (a forking daemon such as nfacctd, whose core
 * and plugin are separate processes), each with the time of its children already reaped.
 */
export function readTreeCpuTimes(pid: number): CpuTimes {
  const total = { user: 0, system: 0 };
  for (const member of [pid, ...descendants(pid)]) {
    try {
      const stat = readFileSync(`/proc/${member}/stat`, 'latin1');
      const own = parseCpuTimes(stat);
      const reaped = parseChildrenCpuTimes(stat);
      total.user += own.user + reaped.user;
      total.system += own.system + reaped.system;
    } catch {
      // Exited between listing and reading: its time is now in its parent's reaped children.
    }
  }
  return total;
}

function descendants(pid: number): number[] {
  const found: number[] = [];
  let tasks: string[] = [];
  try {
    tasks = readdirSync(`/proc/${pid}/task`);
  } catch {
    return found;
  }
  for (const task of tasks) {
    let children = '';
    try {
      children = readFileSync(`/proc/${pid}/task/${task}/children`, 'latin1');
    } catch {
      continue;
    }
    for (const child of children.split(' ').filter(Boolean).map(Number))
      found.push(child, ...descendants(child));
  }
  return found;
}

/** Fields 16 and 17 of /proc/PID/stat: CPU of the children this process has waited for. */
export function parseChildrenCpuTimes(stat: string): CpuTimes {
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const cutime = Number(fields[13]);
  const cstime = Number(fields[14]);
  if (fields.length < 15 || !Number.isFinite(cutime) || !Number.isFinite(cstime)) {
    throw new Error('unexpected /proc/PID/stat layout');
  }
  return { user: cutime / CLOCK_TICKS_PER_SECOND, system: cstime / CLOCK_TICKS_PER_SECOND };
}

export function parseCpuTimes(stat: string): CpuTimes {
  // The command name (field 2) may hold spaces and parentheses: count from the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // After the name, field 3 (state) is index 0, so utime (14) and stime (15) are 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  if (fields.length < 13 || !Number.isFinite(utime) || !Number.isFinite(stime)) {
    throw new Error('unexpected /proc/PID/stat layout');
  }
  return { user: utime / CLOCK_TICKS_PER_SECOND, system: stime / CLOCK_TICKS_PER_SECOND };
}

export interface UdpSocketState {
  /** Bytes waiting in the receive queue. */
  rxQueue: number;
  /** Datagrams the kernel dropped on this socket (receive buffer full). */
  drops: number;
}

/** The IPv4 UDP socket bound to `port`, or undefined when none is. */
export function readUdpSocket(
  port: number,
  table = readFileSync('/proc/net/udp', 'latin1'),
): UdpSocketState | undefined {
  const lines = table.split('\n');
  for (let i = 1; i < lines.length; i++) {
    const columns = lines[i]!.trim().split(/\s+/);
    if (columns.length < 13) continue;
    const local = columns[1]!;
    if (parseInt(local.slice(local.indexOf(':') + 1), 16) !== port) continue;
    const queues = columns[4]!;
    return {
      rxQueue: parseInt(queues.slice(queues.indexOf(':') + 1), 16),
      drops: Number(columns[columns.length - 1]),
    };
  }
  return undefined;
}

/** A UDP port that was free a moment ago on 127.0.0.1 (for tools that cannot bind port 0). */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.bind(0, '127.0.0.1', () => resolve());
  });
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns true; throws `what` after `timeoutMs`. */
export async function waitFor(
  check: () => boolean,
  timeoutMs: number,
  what: string,
  everyMs = 20,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!check()) {
    if (performance.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}

/** A child process whose stdout lines are collected; stderr is kept for error messages. */
export interface Child {
  process: ChildProcess;
  pid: number;
  lines: string[];
  stderr(): string;
  exited: Promise<number | null>;
  /** Resolves with the next stdout line (beyond those already consumed), or throws on timeout/exit. */
  nextLine(timeoutMs: number, what: string): Promise<string>;
  kill(signal?: NodeJS.Signals): void;
}

export function startChild(command: string, args: readonly string[], options: { cwd?: string } = {}): Child {
  const child = spawn(command, args, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
  if (child.pid === undefined) throw new Error(`could not start ${command}`);
  const lines: string[] = [];
  let stderr = '';
  let consumed = 0;
  let exitCode: number | null | undefined;
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    // Bounded: only the tail matters for an error message.
    stderr = (stderr + chunk).slice(-8192);
  });
  createInterface({ input: child.stdout! }).on('line', (line) => lines.push(line));
  const exited = new Promise<number | null>((resolve) => {
    child.once('error', () => {
      exitCode = null;
      resolve(null);
    });
    child.once('close', (code) => {
      exitCode = code;
      resolve(code);
    });
  });
  return {
    process: child,
    pid: child.pid,
    lines,
    stderr: () => stderr,
    exited,
    async nextLine(timeoutMs, what) {
      await waitFor(() => lines.length > consumed || exitCode !== undefined, timeoutMs, what, 10);
      if (lines.length > consumed) return lines[consumed++]!;
      throw new Error(
        `${command} exited (${exitCode}) before ${what}: ${stderr.trim().split('\n').slice(-3).join(' | ')}`,
      );
    },
    kill(signal = 'SIGTERM') {
      if (exitCode === undefined) child.kill(signal);
    },
  };
}

/**
 * Starts `command` under a shell that, once it has exited and been reaped, writes the shell's
 * /proc/PID/stat to `statFile`: its children fields then hold the whole process's CPU from exec
 * to exit, with every process it forked and reaped (readWholeProcessCpu). The returned Child's
 * pid and kill are the command's own (taskset execs the command in place).
 */
export async function startWholeProcess(
  command: string,
  args: readonly string[],
  statFile: string,
  options: { cwd?: string } = {},
): Promise<Child> {
  const shell = startChild(
    'sh',
    ['-c', '"$@"; code=$?; cat /proc/$$/stat > "$0"; exit $code', statFile, command, ...args],
    options,
  );
  let pid = 0;
  await waitFor(
    () => {
      try {
        pid = Number(
          readFileSync(`/proc/${shell.pid}/task/${shell.pid}/children`, 'latin1').trim().split(' ')[0],
        );
      } catch {
        pid = 0;
      }
      return pid > 0;
    },
    10_000,
    `${command} to start`,
    5,
  );
  let exited = false;
  void shell.exited.then(() => (exited = true));
  return {
    ...shell,
    pid,
    kill(signal = 'SIGTERM') {
      if (exited) return;
      try {
        process.kill(pid, signal);
      } catch {
        // Already gone.
      }
    },
  };
}

/** The whole-process CPU a startWholeProcess shell wrote once its command had exited. */
export function readWholeProcessCpu(statFile: string): CpuTimes {
  return parseChildrenCpuTimes(readFileSync(statFile, 'latin1'));
}

/** Waits for the child to exit, killing it with SIGKILL after `timeoutMs`. */
export async function waitExit(child: Child, timeoutMs: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), timeoutMs);
  });
  const result = await Promise.race([child.exited, timeout]);
  clearTimeout(timer);
  if (result === 'timeout') {
    child.kill('SIGKILL');
    await child.exited;
    throw new Error(`child ${child.pid} did not exit within ${timeoutMs} ms`);
  }
  return result;
}
