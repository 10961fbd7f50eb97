/**
 * Local IoC matching against the centre's signed list: executable SHA-256 and remote IP:port.
 * Domains are kept but matched against nothing: on Linux a process's DNS names are not in /proc,
 * and capturing DNS would need a packet socket this sensor does not open.
 *
 * A match is reported once while it holds (the same process with the same socket does not raise
 * a new event every scan), and again if it goes and comes back.
 */
import type { IocListBody, SensorEvent } from '../src/sensor/protocol.ts';
import type { KnownProcess, KnownSocket } from './collect.ts';

/** "[::ffff:1.2.3.4]:443" is "1.2.3.4:443": an IPv4 peer on an IPv6 socket is the same peer. */
export function normaliseIpPort(ipPort: string): string {
  const mapped = /^\[::ffff:(\d{1,3}(?:\.\d{1,3}){3})\]:(\d+)$/i.exec(ipPort);
  if (mapped) return `${mapped[1]}:${mapped[2]}`;
  return ipPort.toLowerCase();
}

export class IocMatcher {
  private sha256 = new Set<string>();
  private ipPorts = new Set<string>();
  private domains = new Set<string>();
  private active = new Set<string>();
  version = 0;
  matches = 0;

  load(list: IocListBody): void {
    this.sha256 = new Set(list.sha256.map((h) => h.toLowerCase()));
    this.ipPorts = new Set(list.ipPorts.map(normaliseIpPort));
    this.domains = new Set(list.domains.map((d) => d.toLowerCase()));
    this.version = list.version;
  }

  get sizes(): { sha256: number; ipPorts: number; domains: number } {
    return { sha256: this.sha256.size, ipPorts: this.ipPorts.size, domains: this.domains.size };
  }

  /** ioc.match events for what matches now and did not at the previous call. */
  match(
    processes: ReadonlyMap<number, KnownProcess>,
    sockets: readonly KnownSocket[],
    at: number,
  ): SensorEvent[] {
    const now = new Map<string, SensorEvent>();
    for (const process of processes.values()) {
      if (process.sha256 && this.sha256.has(process.sha256)) {
        const key = `sha256 ${process.sha256} ${process.pid} ${process.startTicks}`;
        now.set(key, {
          type: 'ioc.match',
          at,
          ioc: process.sha256,
          kind: 'sha256',
          pid: process.pid,
          ...exeOf(process),
        });
      }
    }
    for (const socket of sockets) {
      const remote = normaliseIpPort(socket.remote);
      if (!this.ipPorts.has(remote)) continue;
      const owner = socket.pid === null ? undefined : processes.get(socket.pid);
      // One connection is one match, also when it lingers in TIME_WAIT after its process let go.
      const key = `ip-port ${remote} ${socket.proto} ${socket.local}`;
      now.set(key, { type: 'ioc.match', at, ioc: remote, kind: 'ip-port', pid: socket.pid, ...exeOf(owner) });
    }
    const fresh = [...now].filter(([key]) => !this.active.has(key)).map(([, event]) => event);
    this.active = new Set(now.keys());
    this.matches += fresh.length;
    return fresh;
  }
}

function exeOf(process: KnownProcess | undefined): { exe?: string } {
  return process?.exe === undefined ? {} : { exe: process.exe };
}
