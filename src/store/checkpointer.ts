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

/** The worker's code, CommonJS evaluated in place: no separate file to find in src/ or dist/. */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.module);
const db = new Database(workerData.file, { fileMustExist: true });
db.pragma('synchronous = NORMAL');
let checkpoints = 0;
let frames = 0;
function run() {
  // PASSIVE copies what no reader still needs and returns at once if the writer holds a lock.
  const [result] = db.pragma('wal_checkpoint(PASSIVE)');
  if (result && result.checkpointed > 0) {
    checkpoints++;
    frames += result.checkpointed;
  }
}
const timer = setInterval(() => {
  try {
    run();
  } catch (error) {
    parentPort.postMessage({ error: String(error && error.message) });
  }
}, workerData.intervalMs);
parentPort.on('message', () => {
  clearInterval(timer);
  db.close();
  parentPort.postMessage({ closed: true, checkpoints, frames });
});
`;

export interface Checkpointer {
  /** Checkpoints that failed (reported by the worker); the writer's own checkpoint takes over. */
  readonly failures: number;
  /** The last failure's message, if any. */
  readonly lastError: string | undefined;
  /** Stops the worker and closes its connection; call before closing the writer's. */
  stop(): Promise<void>;
}

/**
 * Starts a checkpointer on `file` (a WAL-mode database another connection writes). `onFailure`
 * runs once when the worker reports an error or dies, so the caller can hand checkpoints back to
 * the writer connection.
 */
export function startCheckpointer(
  file: string,
  options: { intervalMs?: number; onFailure: (message: string) => void },
): Checkpointer {
  const module = createRequire(import.meta.url).resolve('better-sqlite3');
  const worker = new Worker(WORKER_SOURCE, {
    eval: true,
    // Plain CommonJS needs none of the process's flags: without them a worker under `--import
    // tsx` (the tests) starts no loader thread of its own, whose ports Node 20 once tripped over
    // (a native assertion in SiblingGroup::Entangle while a stack opened its store).
    execArgv: [],
    workerData: { file, module, intervalMs: options.intervalMs ?? 100 },
  });
  // A checkpointer never keeps the process alive by itself.
  worker.unref();
  let failures = 0;
  let lastError: string | undefined;
  let stopping = false;
  let handedBack = false;
  const fail = (message: string) => {
    failures++;
    lastError = message;
    if (!handedBack) {
      handedBack = true;
      options.onFailure(message);
    }
  };
  worker.on('message', (m: { error?: string }) => {
    if (m.error !== undefined) fail(m.error);
  });
  worker.on('error', (error) => fail(error.message));
  worker.on('exit', (code) => {
    if (!stopping) fail(`checkpointer exited with code ${code}`);
  });
  return {
    get failures() {
      return failures;
    },
    get lastError() {
      return lastError;
    },
    async stop() {
      if (stopping) return;
      stopping = true;
      const closed = new Promise<void>((resolve) => {
        worker.on('message', (m: { closed?: boolean }) => {
          if (m.closed) resolve();
        });
        worker.once('exit', () => resolve());
      });
      worker.postMessage('stop');
      await closed;
      await worker.terminate();
    },
  };
}
