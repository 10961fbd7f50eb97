/**
 * Moves SQLite's WAL checkpoints off the request path. Random object keys dirty about one index page
 * per stored STIX version, so copying the WAL back into the database (and its fsync) cost more
 * than the insert itself when the writer did it after a commit. A worker thread with its own
 * connection runs `wal_checkpoint(PASSIVE)` on a timer instead; it never blocks the writer or
 * readers. Durability does not depend on it: with WAL and synchronous=NORMAL a committed
 * transaction is in the WAL before the commit returns, and survives the process being killed.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/**
 * The worker's code, CommonJS evaluated in place: no separate file to find in src/ or dist/. One
 * worker serves every store of the process, each database by the id its store gave it.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const open = new Map();
parentPort.on('message', (m) => {
  if (m.op === 'open') {
    let entry;
    try {
      const db = new Database(m.file, { fileMustExist: true });
      db.pragma('synchronous = NORMAL');
      entry = { db, checkpoints: 0, frames: 0 };
    } catch (error) {
      parentPort.postMessage({ id: m.id, error: String(error && error.message) });
      return;
    }
    entry.timer = setInterval(() => {
      try {
        // PASSIVE copies what no reader still needs and returns at once if the writer holds a lock.
        const [result] = entry.db.pragma('wal_checkpoint(PASSIVE)');
        if (result && result.checkpointed > 0) {
          entry.checkpoints++;
          entry.frames += result.checkpointed;
        }
      } catch (error) {
        parentPort.postMessage({ id: m.id, error: String(error && error.message) });
      }
    }, m.intervalMs);
    open.set(m.id, entry);
  } else if (m.op === 'close') {
    const entry = open.get(m.id);
    open.delete(m.id);
    if (entry) {
      clearInterval(entry.timer);
      entry.db.close();
    }
    parentPort.postMessage({ id: m.id, closed: true });
  } else if (m.op === 'exit') {
    // Nothing left to run once the port is closed: the thread ends by itself.
    parentPort.close();
  }
});
`;

export interface Checkpointer {
  /** Checkpoints that failed (reported by the worker); the writer's own checkpoint takes over. */
  readonly failures: number;
  /** The last failure's message, if any. */
  readonly lastError: string | undefined;
  /** Stops checkpointing and closes the worker's connection; call before closing the writer's. */
  stop(): Promise<void>;
}

type WorkerMessage = { id: number; error?: string; closed?: boolean };
interface Client {
  onMessage(message: WorkerMessage): void;
  onExit(message: string): void;
}

/**
 * The checkpointer worker the open stores share, started by the first and terminated (awaited)
 * when the last one stops. Node 20 aborted on a native assertion (SiblingGroup::Entangle,
 * `!data->group_`) creating a Worker while another was being torn down, and a worker left
 * running at exit could fault in better-sqlite3's teardown: so stores share one worker, a new one
 * is created only after the last has exited, and none outlives its stores. If it dies, every store
 * hands checkpoints back to its writer, and the next store starts a new one.
 */
let shared:
  { worker: Worker; clients: Map<number, Client>; exited: Promise<void>; waiting: number } | undefined;
/** How long the worker may take to end by itself before it is terminated. */
const EXIT_GRACE_MS = 2000;
/** The last worker's exit while it is being terminated: the next is created after it. */
let terminating: Promise<void> | undefined;
let nextId = 1;

async function sharedWorker(): Promise<NonNullable<typeof shared>> {
  while (terminating) await terminating;
  if (shared) return shared;
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // Plain CommonJS needs none of the process's flags: under `--import tsx` (the tests) it starts
    // no loader thread of its own.
    execArgv: [],
    workerData: { module },
  });
  // A checkpointer never keeps the process alive by itself.
  worker.unref();
  const exited = new Promise<void>((resolve) => worker.once('exit', () => resolve()));
  const current = { worker, clients: new Map<number, Client>(), exited, waiting: 0 };
  const dead = (message: string) => {
    if (shared === current) shared = undefined;
    for (const client of current.clients.values()) client.onExit(message);
    current.clients.clear();
  };
  worker.on('message', (m: WorkerMessage) => current.clients.get(m.id)?.onMessage(m));
  worker.on('error', (error) => dead(error.message));
  worker.on('exit', (code) => dead(`checkpointer exited with code ${code}`));
  shared = current;
  return current;
}

/** Terminates the shared worker once no store uses it, and waits for it to be gone. */
async function releaseWorker(host: NonNullable<typeof shared>): Promise<void> {
  if (host.clients.size > 0 || shared !== host) return;
  shared = undefined;
  const gone = (async () => {
    // Asked to end rather than terminated: Node 20 deadlocked closing a terminated worker's
    // port (MessagePort::OnClose waiting on a mutex, stack.test.ts hung twice in CI after all
    // its tests passed). Kept referenced until it is gone; terminated if it does not end in time.
    host.worker.ref();
    host.worker.postMessage({ op: 'exit' });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<'late'>((resolve) => (timer = setTimeout(() => resolve('late'), EXIT_GRACE_MS)));
    if ((await Promise.race([host.exited, late])) === 'late') await host.worker.terminate();
    clearTimeout(timer);
    await host.exited;
  })();
  terminating = gone;
  try {
    await gone;
  } finally {
    if (terminating === gone) terminating = undefined;
  }
}

/**
 * Starts checkpointing `file` (a WAL-mode database another connection writes). `onFailure` runs
 * once when the worker reports an error or dies, so the caller can hand checkpoints back to the
 * writer connection.
 */
export async function startCheckpointer(
  file: string,
  options: { intervalMs?: number; onFailure: (message: string) => void },
): Promise<Checkpointer> {
  // The worker may have been released while this waited; then the next one is the one to join.
  let host = await sharedWorker();
  while (shared !== host) host = await sharedWorker();
  const id = nextId++;
  let failures = 0;
  let lastError: string | undefined;
  let stopped = false;
  let handedBack = false;
  let closed: (() => void) | undefined;
  const fail = (message: string) => {
    failures++;
    lastError = message;
    if (!handedBack) {
      handedBack = true;
      options.onFailure(message);
    }
  };
  host.clients.set(id, {
    onMessage(m) {
      if (m.error !== undefined) fail(m.error);
      if (m.closed) closed?.();
    },
    onExit(message) {
      if (!stopped) fail(message);
      closed?.();
    },
  });
  host.worker.postMessage({ op: 'open', id, file, intervalMs: options.intervalMs ?? 100 });
  return {
    get failures() {
      return failures;
    },
    get lastError() {
      return lastError;
    },
    async stop() {
      if (stopped) return;
      stopped = true;
      if (host.clients.has(id)) {
        // Kept alive while a store waits for its connection to close, unreferenced again after.
        if (host.waiting++ === 0) host.worker.ref();
        try {
          await new Promise<void>((resolve) => {
            closed = resolve;
            host.worker.postMessage({ op: 'close', id });
          });
        } finally {
          host.clients.delete(id);
          if (--host.waiting === 0) host.worker.unref();
        }
      }
      await releaseWorker(host);
    },
  };
}
