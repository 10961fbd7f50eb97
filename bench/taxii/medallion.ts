/**
 * Runs OASIS medallion (the reference TAXII 2.1 server) on 127.0.0.1 with its memory backend,
 * preloaded from a data file in the backend's own format. medallion is never part of this
 * repository: MEDALLION_DIR names a medallion 3.0.0 source tree (bench/taxii/README.md says how
 * to get one); without it the benchmark runs tsunagi alone and says so.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { DumpedObject } from './tsunagi.ts';

const API_ROOT = 'bench';
export const MEDALLION_API_ROOT = API_ROOT;
export const MEDALLION_COLLECTION = '9f1c3c8e-5c1a-4f3b-9d6e-0b7a2e4c1d10';
const USER = 'bench';
const PASSWORD = 'bench-password';

export interface Medallion {
  /** Base URL of the objects endpoint of the one collection. */
  objectsUrl: string;
  authorization: string;
  /** The server's process, whose CPU time the benchmark reads. */
  pid: number;
  stop(): Promise<void>;
}

/** Where medallion's sources are, or why it cannot run (a message for the reader). */
export function locateMedallion(): { dir: string; python: string } | { skip: string } {
  // Debian's python3 carries the Flask packages install-test-tools.sh installs.
  const python = process.env.MEDALLION_PYTHON ?? '/usr/bin/python3';
  const dir = process.env.MEDALLION_DIR;
  if (!dir)
    return {
      skip: 'MEDALLION_DIR unset: point it at a medallion 3.0.0 source tree (see bench/taxii/README.md)',
    };
  if (!existsSync(join(dir, 'medallion', 'backends', 'memory_backend.py')))
    return { skip: `no medallion memory backend under ${dir}` };
  const check = spawnSync(python, ['-c', 'import flask, flask_httpauth, pytz, six'], { encoding: 'utf8' });
  if (check.status !== 0)
    return {
      skip: `${python} lacks medallion's dependencies (apt-get install -y python3-flask python3-flask-httpauth python3-tz python3-six): ${check.stderr.trim().split('\n').pop()}`,
    };
  return { dir, python };
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

/**
 * The memory backend's data file holding `objects` in one collection, each with its manifest entry
 * (the backend pages objects by the manifest's date_added). medallion 3.0.0 reads any `version`
 * property as a timestamp, so extension-definition objects (whose `version` is "1.0.0") must be
 * left out by the caller.
 */
export function medallionData(objects: readonly DumpedObject[], base: string): unknown {
  return {
    '/discovery': {
      title: 'medallion (bench)',
      description: 'OASIS reference TAXII server, memory backend',
      default: `${base}/${API_ROOT}/`,
      api_roots: [`${base}/${API_ROOT}/`],
    },
    [API_ROOT]: {
      information: {
        title: 'bench',
        description: 'benchmark root',
        versions: ['application/taxii+json;version=2.1'],
        max_content_length: 1 << 30,
      },
      status: [],
      collections: [
        {
          id: MEDALLION_COLLECTION,
          title: 'bench indicators',
          can_read: true,
          can_write: true,
          media_types: ['application/stix+json;version=2.1'],
          // The backend versions an object without created/modified by a hidden `_date_added`.
          objects: objects.map((o) =>
            o.object.modified || o.object.created ? o.object : { ...o.object, _date_added: o.version },
          ),
          manifest: objects.map((o) => ({
            id: o.object.id,
            date_added: o.dateAdded,
            version: o.version,
            media_type: 'application/stix+json;version=2.1',
          })),
        },
      ],
    },
  };
}

/** Starts medallion (its own process) holding `objects` (see medallionData). */
export async function startMedallion(
  where: { dir: string; python: string },
  objects: readonly DumpedObject[],
): Promise<Medallion> {
  const work = mkdtempSync(join(tmpdir(), 'medallion-bench-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const data = medallionData(objects, base);
  const dataFile = join(work, 'data.json');
  writeFileSync(dataFile, JSON.stringify(data));
  const configFile = join(work, 'config.json');
  writeFileSync(
    configFile,
    JSON.stringify({
      backend: {
        module: 'medallion.backends.memory_backend',
        module_class: 'MemoryBackend',
        filename: dataFile,
        // A paging session expires 30 s after its first page by default: a walk of small pages on
        // a loaded machine outlasts that, and medallion then answers 400 "'next' not valid".
        session_timeout: 3600,
      },
      users: { [USER]: PASSWORD },
      taxii: { max_page_size: 1000 },
    }),
  );
  const child: ChildProcess = spawn(
    where.python,
    [
      '-m',
      'medallion.scripts.run',
      '--host',
      '127.0.0.1',
      '--port',
      String(port),
      '--log-level',
      'ERROR',
      configFile,
    ],
    { cwd: where.dir, env: { ...process.env, PYTHONPATH: where.dir }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr!.on('data', (chunk: Buffer) => {
    stderr = (stderr + chunk.toString()).slice(-4000);
  });
  const authorization = `Basic ${Buffer.from(`${USER}:${PASSWORD}`).toString('base64')}`;
  const deadline = Date.now() + 120_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`medallion exited ${child.exitCode}: ${stderr}`);
    try {
      const res = await fetch(`${base}/taxii2/`, {
        headers: { accept: 'application/taxii+json;version=2.1', authorization },
      });
      await res.arrayBuffer();
      if (res.ok) break;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      child.kill('SIGKILL');
      throw new Error(`medallion did not answer within 120 s: ${stderr}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  return {
    objectsUrl: `${base}/${API_ROOT}/collections/${MEDALLION_COLLECTION}/objects/`,
    authorization,
    pid: child.pid!,
    stop: () =>
      new Promise<void>((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }).then(() => rmSync(work, { recursive: true, force: true })),
  };
}
