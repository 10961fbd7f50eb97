/**
 * The benchmark's resolver: BIND serves the generated `test.` zone on a loopback high port and a
 * caching Unbound answers on ADDRESS:53 (checkdmarc's `-n` takes addresses only, so port 53).
 * The daemons and their configuration are the hygiene tests' lab's (src/hygiene/testing.ts), but
 * the zone is unsigned and Unbound keeps its cache, so a warm-up pass makes the timed passes
 * measure the checkers, not the daemons.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  dnsDaemons,
  freePort,
  namedConf,
  unboundConf,
  waitUntilAnswering,
} from '../../src/hygiene/testing.ts';

export interface BenchResolver {
  /** ADDRESS:53 of the caching Unbound. */
  resolver: string;
  address: string;
  stop(): Promise<void>;
}

export async function startBenchResolver(records: string, address: string): Promise<BenchResolver> {
  const dir = mkdtempSync(join(tmpdir(), 'tsunagi-bench-hygiene-'));
  const daemons = dnsDaemons(dir);
  try {
    const authPort = await freePort();
    writeFileSync(
      join(dir, 'test.zone'),
      `$TTL 3600\n@ IN SOA ns.test. hostmaster.test. 1 3600 600 86400 3600\n@ IN NS ns.test.\nns IN A 127.0.0.1\n${records}`,
    );
    writeFileSync(
      join(dir, 'named.conf'),
      namedConf(dir, authPort, [{ zone: 'test.', file: `${dir}/test.zone` }]),
    );
    writeFileSync(
      join(dir, 'unbound.conf'),
      unboundConf(dir, {
        address,
        port: 53,
        authPort,
        zones: ['test.'],
        settings: ['module-config: "iterator"', 'msg-cache-size: 64m', 'rrset-cache-size: 128m'],
      }),
    );
    daemons.start();
    await waitUntilAnswering('127.0.0.1', authPort, 'test.');
    await waitUntilAnswering(address, 53, 'test.');
    return { resolver: `${address}:53`, address, stop: daemons.stop };
  } catch (error) {
    await daemons.stop();
    throw error;
  }
}
