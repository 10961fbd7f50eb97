/**
 * The survey benchmark's devices: real daemons from Debian on loopback addresses, so the banners
 * are the daemons' own (not written by this project, not copied from recog's examples), and a
 * truth written from the installed packages' names and versions (dpkg), independent of any
 * fingerprint database.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export interface DaemonTruth {
  ip: string;
  port: number;
  daemon: string;
  /** Words a correct identification names: the product and the upstream version. */
  product: string;
  version: string;
}

interface DaemonSpec {
  daemon: string;
  package: string;
  product: string;
  port: number;
  command: (ip: string, port: number, dir: string) => [string, string[]];
}

/** Debian's version "1:1.35.0-4+deb12u1+b1" is upstream "1.35.0". */
export function upstreamVersion(debian: string): string {
  return debian.replace(/^\d+:/, '').replace(/[-+~].*$/, '');
}

const DAEMONS: DaemonSpec[] = [
  {
    daemon: 'dropbear',
    package: 'dropbear-bin',
    product: 'dropbear',
    port: 2222,
    command: (ip, port, dir) => [
      'dropbear',
      ['-F', '-E', '-R', '-s', '-p', `${ip}:${port}`, '-P', join(dir, 'dropbear.pid')],
    ],
  },
  {
    daemon: 'busybox telnetd',
    package: 'busybox-static',
    product: 'busybox',
    port: 2323,
    command: (ip, port) => ['busybox', ['telnetd', '-F', '-b', `${ip}:${port}`, '-l', '/bin/login']],
  },
  {
    daemon: 'lighttpd',
    package: 'lighttpd',
    product: 'lighttpd',
    port: 8080,
    command: (ip, port, dir) => {
      const docs = join(dir, 'www');
      mkdirSync(docs, { recursive: true });
      writeFileSync(join(docs, 'index.html'), '<html><body>device</body></html>\n');
      const conf = join(dir, 'lighttpd.conf');
      writeFileSync(
        conf,
        `server.document-root = "${docs}"\nserver.bind = "${ip}"\nserver.port = ${port}\n` +
          `server.pid-file = "${join(dir, 'lighttpd.pid')}"\nindex-file.names = ("index.html")\n`,
      );
      return ['lighttpd', ['-D', '-f', conf]];
    },
  },
  {
    daemon: 'busybox httpd',
    package: 'busybox-static',
    product: 'busybox',
    port: 8081,
    command: (ip, port, dir) => ['busybox', ['httpd', '-f', '-p', `${ip}:${port}`, '-h', dir]],
  },
];

export function missingDaemons(): string[] {
  return [...new Set(DAEMONS.map((d) => d.command('127.0.0.1', 1, '/nonexistent')[0]))].filter(
    (tool) => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status !== 0,
  );
}

function packageVersion(name: string): string {
  const result = spawnSync('dpkg-query', ['-W', '-f', '${Version}', name], { encoding: 'utf8' });
  if (result.status !== 0) throw new Error(`dpkg-query ${name}: ${result.stderr.trim()}`);
  return upstreamVersion(result.stdout.trim());
}

/** Starts one daemon per address 127.0.NET.1..4; returns the truth and a stop function. */
export async function startDaemons(
  net: number,
  dir: string,
): Promise<{ truth: DaemonTruth[]; stop(): Promise<void> }> {
  const children: ChildProcess[] = [];
  const truth: DaemonTruth[] = [];
  const stop = async () => {
    for (const child of children) child.kill('SIGTERM');
    await sleep(200);
    for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  };
  try {
    for (const [i, spec] of DAEMONS.entries()) {
      const ip = `127.0.${net}.${i + 1}`;
      const work = join(dir, spec.daemon.replace(/\W+/g, '-'));
      mkdirSync(work, { recursive: true });
      const [command, args] = spec.command(ip, spec.port, work);
      const child = spawn(command, args, { stdio: 'ignore', cwd: work });
      children.push(child);
      truth.push({
        ip,
        port: spec.port,
        daemon: spec.daemon,
        product: spec.product,
        version: packageVersion(spec.package),
      });
    }
    await waitListening(truth);
    return { truth, stop };
  } catch (error) {
    await stop();
    throw error;
  }
}

async function waitListening(truth: DaemonTruth[]): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const listening = spawnSync('ss', ['-Hltn'], { encoding: 'utf8' }).stdout;
    if (truth.every((t) => listening.includes(`${t.ip}:${t.port} `))) return;
    await sleep(50);
  }
  throw new Error(
    `daemons did not all listen: ${truth.map((t) => `${t.daemon} ${t.ip}:${t.port}`).join(', ')}`,
  );
}
