/**
 * Test helper: Debian's Unbound on 127.0.0.1, on a port the kernel picked, answering the names
 * of local zone files (auth-zone, no upstream: nothing leaves the machine) plus `extra` config,
 * such as an RPZ zone or an exported local-zone file; and dig to ask it.
 */
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { createServer, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

/** The tools these tests need that this machine lacks (scripts/install-test-tools.sh installs them). */
export const MISSING_RESOLVER_TOOLS = ['unbound', 'dig'].filter(
  (tool) => spawnSync('which', [tool]).status !== 0,
);

/** A zone Unbound serves itself: its origin (`top.`) and its records below the SOA and NS. */
export interface LabZone {
  origin: string;
  records: string[];
}

export interface LabResolver {
  port: number;
  stop: () => Promise<void>;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/**
 * Starts Unbound in `lab` (a directory of the test's) and waits until `ready` (a name of the
 * zones) answers; the config is checked by unbound-checkconf first.
 */
export async function startUnbound(
  lab: string,
  extra: string,
  zones: readonly LabZone[],
  ready: string,
): Promise<LabResolver> {
  const port = await freePort();
  let authZones = '';
  for (const [i, zone] of zones.entries()) {
    const file = join(lab, `zone-${i}.zone`);
    writeFileSync(
      file,
      `$ORIGIN ${zone.origin}\n$TTL 60\n@ IN SOA ns.${zone.origin} h.${zone.origin} 1 3600 600 86400 60\n` +
        `@ IN NS ns.${zone.origin}\nns IN A 127.0.0.1\n${zone.records.join('\n')}\n`,
    );
    authZones +=
      `auth-zone:\n  name: "${zone.origin}"\n  zonefile: "${file}"\n` +
      `  for-downstream: no\n  for-upstream: yes\n  fallback-enabled: no\n`;
  }
  writeFileSync(
    join(lab, 'unbound.conf'),
    `server:\n  interface: 127.0.0.1\n  port: ${port}\n  do-ip6: no\n  do-not-query-localhost: no\n  username: ""\n` +
      `  chroot: ""\n  directory: "${lab}"\n  pidfile: "${lab}/unbound.pid"\n  use-syslog: no\n  logfile: ""\n` +
      `  verbosity: 0\n  num-threads: 1\n  access-control: 127.0.0.0/8 allow\n  module-config: "respip iterator"\n` +
      `${extra}remote-control:\n  control-enable: no\n${authZones}`,
  );
  const check = spawnSync('unbound-checkconf', [join(lab, 'unbound.conf')], { encoding: 'utf8' });
  assert.equal(check.status, 0, check.stderr + check.stdout);
  const child: ChildProcess = spawn('unbound', ['-d', '-c', join(lab, 'unbound.conf')], { stdio: 'ignore' });
  const stop = async () => {
    if (child.exitCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; i < 100; i++) {
    if (queryA(port, ready).status === 'NOERROR') return { port, stop };
    await sleep(100);
  }
  await stop();
  throw new Error('unbound did not answer');
}

/** An A query to the lab resolver: the response code and dig's whole answer. */
export function queryA(port: number, name: string): { status: string; answer: string } {
  const r = spawnSync('dig', ['+time=1', '+tries=1', '-p', String(port), '@127.0.0.1', name, 'A'], {
    encoding: 'utf8',
  });
  return { status: /status: (\w+)/.exec(r.stdout)?.[1] ?? 'none', answer: r.stdout };
}
