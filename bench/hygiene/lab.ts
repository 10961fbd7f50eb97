/**
 * The benchmark's resolver: BIND serves the generated `test.` zone on a loopback high port and a
 * caching Unbound answers on ADDRESS:53 (checkdmarc's `-n` takes addresses only, so port 53).
 * Unlike the hygiene tests' lab (src/hygiene/testing.ts) the zone is unsigned and Unbound keeps
 * its cache, so a warm-up pass makes the timed passes measure the checkers, not the daemons.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface BenchResolver {
  /** ADDRESS:53 of the caching Unbound. */
  resolver: string;
  address: string;
  stop(): Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const { port } = server.address() as AddressInfo;
  await new Promise((done) => server.close(done));
  return port;
}

function namedConf(dir: string, port: number): string {
  return `options {
directory "${dir}";
listen-on port ${port} { 127.0.0.1; };
listen-on-v6 { none; };
pid-file "${dir}/named.pid";
session-keyfile "${dir}/session.key";
recursion no;
dnssec-validation no;
notify no;
};
controls { };
zone "test." { type primary; file "${dir}/test.zone"; };
`;
}

function unboundConf(dir: string, address: string, authPort: number): string {
  return `server:
interface: ${address}
port: 53
do-ip6: no
do-not-query-localhost: no
username: ""
chroot: ""
directory: "${dir}"
pidfile: "${dir}/unbound.pid"
use-syslog: no
logfile: ""
verbosity: 0
num-threads: 1
so-reuseport: no
access-control: 127.0.0.0/8 allow
module-config: "iterator"
qname-minimisation: no
msg-cache-size: 64m
rrset-cache-size: 128m
local-zone: "test." nodefault
remote-control:
control-enable: no
stub-zone:
  name: "test."
  stub-addr: 127.0.0.1@${authPort}
`;
}

export async function startBenchResolver(records: string, address: string): Promise<BenchResolver> {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-hygiene-'));
  const processes: ChildProcess[] = [];
  const stop = async () => {
    for (const child of processes) if (child.exitCode === null) child.kill('SIGTERM');
    await Promise.all(
      processes.map((child) =>
        child.exitCode === null ? new Promise((done) => child.once('exit', done)) : null,
      ),
    );
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const authPort = await freePort();
    writeFileSync(
      join(dir, 'test.zone'),
      `$TTL 3600\n@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 3600\n@ IN NS ns.test.\nns IN A 127.0.0.1\n${records}`,
    );
    writeFileSync(join(dir, 'named.conf'), namedConf(dir, authPort));
    writeFileSync(join(dir, 'unbound.conf'), unboundConf(dir, address, authPort));
    const stdio: ['ignore', 'ignore', 'ignore'] = ['ignore', 'ignore', 'ignore'];
    processes.push(spawn('named', ['-g', '-n', '1', '-c', join(dir, 'named.conf')], { stdio }));
    processes.push(spawn('unbound', ['-d', '-c', join(dir, 'unbound.conf')], { stdio }));
    await waitUntilAnswering(`127.0.0.1`, authPort);
    await waitUntilAnswering(address, 53);
    return { resolver: `${address}:53`, address, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitUntilAnswering(address: string, port: number): Promise<void> {
  for (let attempt = 0; attempt < 150; attempt++) {
    const dig = spawnSync(
      'dig',
      ['+short', '+time=1', '+tries=1', '-p', String(port), `@${address}`, 'test.', 'SOA'],
      {
        encoding: 'utf8',
      },
    );
    if (dig.status === 0 && dig.stdout.trim()) return;
    await sleep(100);
  }
  throw new Error(`no DNS server answering on ${address}:${port}`);
}
