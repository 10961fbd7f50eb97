/**
 * Raw better-sqlite3 on the stix_objects table alone (migration 0001's columns and keys, random
 * uuid object ids, 650-byte bodies), not a benchmark row: fills FILE to ROWS rows once (reused
 * afterwards), then times 40 transactions of one 1000-row INSERT each with WAL checkpoints in a
 * worker thread: insert and commit p50/max, rows/s, the process's CPU split. Env ALSO_WRITER=1
 * first times the same with the writer checkpointing itself (wal_autocheckpoint = 10000);
 * CACHE (KiB) and WARM=1 (read the key index first) show what the page cache changes. KEY=compact
 * keys versions by (collection number, 52-bit MD5 of the object id, version ms) instead of the
 * ids (the shape of migration 0004's object_key, ~20-byte index entries instead of ~116).
 *
 * Run: node bench/taxii/sqlite-key.mjs FILE ROWS   (6M rows: ~8 min to fill, 7.8 GB)
 */
import Database from 'better-sqlite3';
import { createHash, randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
const file = process.argv[2];
const target = Number(process.argv[3]);
const fresh = !existsSync(file);
const db = new Database(file);
db.pragma('journal_mode = WAL');
db.pragma('synchronous = NORMAL');
db.pragma('cache_size = -65536');
if (process.env.CACHE) db.pragma('cache_size = -' + process.env.CACHE);
if (process.env.MMAP) db.pragma('mmap_size = ' + process.env.MMAP);
const cols = [
  '6cd54954-09f2-43dc-bd3a-dc18678b18c7',
  '4ffda6f5-357f-4d90-bd10-e979998326ed',
  '75ffa845-aa1c-4d4c-9ec8-2ee92078ca21',
];
const compact = process.env.KEY === 'compact';
if (fresh && compact) {
  db.exec(`create table stix_objects (seq integer primary key autoincrement, collection_no integer not null, object_hash integer not null, object_id text not null, object_type text not null, spec_version text not null, version text not null, version_ms integer not null, date_added text not null, is_latest integer not null, tier text not null, tlp text not null, body text not null);
  create index stix_objects_version on stix_objects (collection_no, object_hash, version_ms);
  create index stix_objects_page on stix_objects (collection_no, seq);`);
} else if (fresh) {
  db.exec(`create table stix_objects (seq integer primary key autoincrement, collection_id text not null, object_id text not null, object_type text not null, spec_version text not null, version text not null, date_added text not null, is_latest integer not null, tier text not null, tlp text not null, body text not null, constraint stix_objects_key unique (collection_id, object_id, version));
  create index stix_objects_page on stix_objects (collection_id, seq);`);
}
const body = 'x'.repeat(650);
const tuples = Array.from({ length: 1000 }, () => '(?,?,?,?,?,?,?,?,?,?)').join(',');
const ins = compact
  ? db.prepare(
      `insert into stix_objects (collection_no, object_hash, object_id, object_type, spec_version, version, version_ms, date_added, is_latest, tier, tlp, body) values ${Array.from({ length: 1000 }, () => '(?,?,?,?,?,?,?,?,?,?,?,?)').join(',')}`,
    )
  : db.prepare(
      `insert into stix_objects (collection_id, object_id, object_type, spec_version, version, date_added, is_latest, tier, tlp, body) values ${tuples}`,
    );
const hash52 = (id) => parseInt(createHash('md5').update(id).digest('hex').slice(0, 13), 16);
function rows() {
  const p = [];
  const v = new Date().toISOString();
  for (let i = 0; i < 1000; i++) {
    const id = 'indicator--' + randomUUID();
    if (compact)
      p.push(1 + (i % 3), hash52(id), id, 'indicator', '2.1', v, Date.parse(v), v, 1, 'full', 'amber', body);
    else p.push(cols[i % 3], id, 'indicator', '2.1', v, v, 1, 'full', 'amber', body);
  }
  return p;
}
let n = db.prepare('select max(seq) n from stix_objects').get().n ?? 0;
if (n < target) {
  db.pragma('wal_autocheckpoint = 100000');
  const t0 = performance.now();
  while (n < target) {
    db.transaction(() => {
      for (let k = 0; k < 10; k++) ins.run(rows());
    })();
    n += 10000;
    if (n % 500000 === 0) console.error('fill', n, ((performance.now() - t0) / 1000).toFixed(0) + 's');
  }
  db.pragma('wal_checkpoint(TRUNCATE)');
}
if (process.env.WARM) {
  const t = performance.now();
  console.log(
    db
      .prepare(
        "select count(*) n from stix_objects indexed by sqlite_autoindex_stix_objects_1 where object_id > ''",
      )
      .get(),
    'warm',
    (performance.now() - t).toFixed(0),
  );
}
async function trial(label, ac, worker) {
  db.pragma(`wal_autocheckpoint = ${ac}`);
  let w;
  if (worker) {
    w = new Worker(
      `
    const { workerData, parentPort } = require('node:worker_threads');
    const Database = require(workerData.module);
    const db = new Database(workerData.file); let stop=false; parentPort.on('message',()=>{stop=true;});
    const t = setInterval(()=>{ if(stop){clearInterval(t); db.close(); parentPort.postMessage('done'); return;} db.pragma('wal_checkpoint(PASSIVE)'); }, 100);
  `,
      { eval: true, workerData: { file, module: createRequire(import.meta.url).resolve('better-sqlite3') } },
    );
  }
  const ti = [],
    tc = [];
  const t0 = performance.now();
  const r0 = process.resourceUsage();
  for (let i = 0; i < 40; i++) {
    const p = rows();
    const a = performance.now();
    db.exec('begin');
    ins.run(p);
    const b = performance.now();
    db.exec('commit');
    const c = performance.now();
    ti.push(b - a);
    tc.push(c - b);
  }
  const secs = (performance.now() - t0) / 1000;
  const r1 = process.resourceUsage();
  console.log(
    '  user ms',
    ((r1.userCPUTime - r0.userCPUTime) / 1000).toFixed(0),
    'sys ms',
    ((r1.systemCPUTime - r0.systemCPUTime) / 1000).toFixed(0),
    'wall',
    (secs * 1000).toFixed(0),
    'vcsw',
    r1.voluntaryContextSwitches - r0.voluntaryContextSwitches,
  );
  if (w) {
    w.postMessage('stop');
    await new Promise((r) => w.once('message', r));
    await w.terminate();
  }
  const med = (a) => [...a].sort((x, y) => x - y)[Math.floor(a.length / 2)];
  const p99 = (a) => Math.max(...a);
  console.log(
    label,
    'rows',
    n,
    'insert p50',
    med(ti).toFixed(1),
    'commit p50',
    med(tc).toFixed(1),
    'commit max',
    p99(tc).toFixed(1),
    'rows/s',
    (40000 / secs).toFixed(0),
  );
  n += 40000;
}
if (process.env.ALSO_WRITER) await trial('writer checkpoints (ac=10000)', 10000, false);
for (let k = 0; k < Number(process.env.TRIALS ?? 2); k++) await trial('worker checkpoints', 0, true);
db.close();
