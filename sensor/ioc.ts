/**
 * Local IoC matching against the centre's signed list: executable SHA-256, remote IP:port, and
 * domains through the addresses the centre's resolver gave for them (shipped in the list with
 * the time they were resolved). The sensor never resolves a listed domain itself: asking the
 * attacker's name servers would warn them and show what the centre knows. A connection to any
 * port of such an address is reported as the domain.
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

/** The IP of a normalised "ip:port" / "[ipv6]:port"; undefined for an unspecified peer (a listening socket). */
function remoteIp(ipPort: string): string | undefined {
  const ip = ipPort.slice(0, ipPort.lastIndexOf(':')).replace(/^\[|\]$/g, '');
  return ip === '0.0.0.0' || ip === '::' ? undefined : ip;
}

export class IocMatcher {
  private sha256 = new Set<string>();
  private ipPorts = new Set<string>();
  private domains = new Set<string>();
  /** Address -> the listed domains the centre resolved to it. */
  private domainsByAddress = new Map<string, string[]>();
  private active = new Set<string>();
  version = 0;
  matches = 0;

  load(list: IocListBody): void {
    this.sha256 = new Set(list.sha256.map((h) => h.toLowerCase()));
    this.ipPorts = new Set(list.ipPorts.map(normaliseIpPort));
    this.domains = new Set(list.domains.map((d) => d.toLowerCase()));
    this.domainsByAddress = new Map();
    for (const { domain, addresses } of list.resolved ?? []) {
      for (const address of addresses) {
        const ip = remoteIp(normaliseIpPort(address.includes(':') ? `[${address}]:0` : `${address}:0`));
        if (ip === undefined) continue;
        this.domainsByAddress.set(ip, [...(this.domainsByAddress.get(ip) ?? []), domain.toLowerCase()]);
      }
    }
    this.version = list.version;
  }

  get sizes(): { sha256: number; ipPorts: number; domains: number; resolvedAddresses: number } {
    return {
      sha256: this.sha256.size,
      ipPorts: this.ipPorts.size,
      domains: this.domains.size,
      resolvedAddresses: this.domainsByAddress.size,
    };
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
      const ip = remoteIp(remote);
      const domains = ip === undefined ? undefined : this.domainsByAddress.get(ip);
      if (!this.ipPorts.has(remote) && !domains) continue;
      const owner = socket.pid === null ? undefined : processes.get(socket.pid);
      const holder = { pid: socket.pid, ...exeOf(owner) };
      // One connection is one match, also when it lingers in TIME_WAIT after its process let go.
      const connection = `${remote} ${socket.proto} ${socket.local}`;
      if (this.ipPorts.has(remote))
        now.set(`ip-port ${connection}`, { type: 'ioc.match', at, ioc: remote, kind: 'ip-port', ...holder });
      for (const domain of domains ?? [])
        now.set(`domain ${domain} ${connection}`, {
          type: 'ioc.match',
          at,
          ioc: domain,
          kind: 'domain',
          ...holder,
        });
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
