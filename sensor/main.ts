/**
 * The terminal's command: `tsunagi-sensor enroll|run|status|digest`. Exit codes: 0 ok, 1 runtime
 * error (the centre unreachable or refusing, a broken state directory), 2 bad usage or input;
 * every error is one line on stderr.
 */
import { parseArgs } from 'node:util';
import { InviteTokenError, IocListBody, PolicyBody, SignedDocumentError } from '../src/sensor/protocol.ts';
import { AGENT_DEFAULTS, SensorAgent } from './agent.ts';
import { enroll } from './client/enroll.ts';
import { runningDigest } from './digest.ts';
import { adoptSigned } from './signed.ts';
import { Spool } from './spool.ts';
import { SensorState, utcDay } from './state.ts';

const USAGE = `usage: tsunagi-sensor enroll --center URL --token T --state DIR
       tsunagi-sensor run --state DIR [--once] [--scan-interval MS] [--send-interval MS]
                          [--refresh-interval MS] [--status-interval MS] [--renew-within MS]
       tsunagi-sensor status --state DIR
       tsunagi-sensor digest`;

/** Bad usage or input: exit code 2. */
class UsageError extends Error {}

export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

const consoleIo: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

export async function main(argv: string[], io: Io = consoleIo): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'enroll':
        return await enrollCommand(rest, io);
      case 'run':
        return await runCommand(rest, io);
      case 'status':
        return statusCommand(rest, io);
      case 'digest':
        io.out(runningDigest());
        return 0;
      case undefined:
      case 'help':
      case '--help':
        io.out(USAGE);
        return command === undefined ? 2 : 0;
      default:
        throw new UsageError(`unknown command "${command}" (enroll, run, status, digest)`);
    }
  } catch (error) {
    const usage = error instanceof UsageError || error instanceof InviteTokenError || isParseArgsError(error);
    io.err(`tsunagi-sensor: ${oneLine((error as Error).message)}`);
    return usage ? 2 : 1;
  }
}

function isParseArgsError(error: unknown): boolean {
  return (
    typeof (error as { code?: unknown })?.code === 'string' &&
    (error as { code: string }).code.startsWith('ERR_PARSE_ARGS')
  );
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim().slice(0, 500);
}

function required(values: Record<string, unknown>, name: string): string {
  const value = values[name];
  if (typeof value !== 'string' || value === '') throw new UsageError(`--${name} is required`);
  return value;
}

function positiveInt(values: Record<string, unknown>, name: string): number | undefined {
  const value = values[name];
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n <= 0) throw new UsageError(`--${name} must be a positive integer`);
  return n;
}

async function enrollCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: { center: { type: 'string' }, token: { type: 'string' }, state: { type: 'string' } },
    strict: true,
  });
  let center: URL;
  try {
    center = new URL(required(values, 'center'));
  } catch (error) {
    if (error instanceof UsageError) throw error;
    throw new UsageError(`--center is not a URL: ${values.center}`);
  }
  if (center.protocol !== 'https:') throw new UsageError('--center must be an https:// URL');
  const state = new SensorState(required(values, 'state'));
  if (state.enrolled) throw new UsageError(`${state.dir} already holds an enrolled sensor`);
  const { sensorId } = await enroll(state, {
    center,
    token: required(values, 'token'),
    bundleDigest: runningDigest(),
  });
  io.out(`enrolled: sensor ${sensorId} at ${center.origin}`);
  return 0;
}

function enrolledState(values: Record<string, unknown>): SensorState {
  const state = new SensorState(required(values, 'state'));
  if (!state.enrolled) throw new UsageError(`${state.dir} holds no enrolled sensor (run enroll first)`);
  return state;
}

async function runCommand(args: string[], io: Io): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      state: { type: 'string' },
      once: { type: 'boolean' },
      'scan-interval': { type: 'string' },
      'send-interval': { type: 'string' },
      'refresh-interval': { type: 'string' },
      'status-interval': { type: 'string' },
      'renew-within': { type: 'string' },
    },
    strict: true,
  });
  const state = enrolledState(values);
  const scanIntervalMs = positiveInt(values, 'scan-interval');
  const intervals = {
    renewWithinMs: positiveInt(values, 'renew-within'),
    sendIntervalMs: positiveInt(values, 'send-interval'),
    refreshIntervalMs: positiveInt(values, 'refresh-interval'),
    statusIntervalMs: positiveInt(values, 'status-interval'),
  };
  const agent = new SensorAgent(state, {
    ...AGENT_DEFAULTS,
    ...(scanIntervalMs === undefined ? {} : { scanIntervalMs }),
    ...Object.fromEntries(Object.entries(intervals).filter(([, value]) => value !== undefined)),
    log: (line) => io.err(`tsunagi-sensor: ${oneLine(line)}`),
  });
  if (values.once) {
    // One scan, whole, in one send: the starts held for their executables' digests go out with it.
    await agent.tick(Date.now(), false);
    await agent.firstScanHashed();
    await agent.tick(Date.now(), false);
    await agent.flush();
    agent.stop();
    agent.close();
    const status = agent.status();
    const unsent = state.exists('inflight.ndjson');
    io.out(
      `one scan: ${status.processes} processes, ${status.sockets} sockets, ${status.iocMatches} IoC matches, ` +
        `spool ${status.spoolEvents} events${unsent ? ', a batch unsent' : ''}`,
    );
    return status.spoolEvents === 0 && !unsent ? 0 : 1;
  }
  const stop = () => agent.stop();
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  io.err(`tsunagi-sensor: running as ${state.identity().sensorId.slice(0, 16)} (state ${state.dir})`);
  await agent.run();
  return 0;
}

function statusCommand(args: string[], io: Io): number {
  const { values } = parseArgs({ args, options: { state: { type: 'string' } }, strict: true });
  const state = enrolledState(values);
  const identity = state.identity();
  const key = state.readText('policy-key.pem');
  const policy = adoptSigned(state.signedDocument('policy.json'), key, PolicyBody, 0);
  if (!policy.adopted) throw new SignedDocumentError(`stored policy: ${policy.reason}`);
  const iocs = adoptSigned(state.signedDocument('iocs.json'), key, IocListBody, 0);
  const chain = state.chain();
  const counters = state.counters(utcDay());
  const spool = new Spool(state.path('spool'), Infinity);
  const last = state.readJson<Record<string, unknown>>('status.json');
  io.out(`sensor ${identity.sensorId} enrolled ${identity.enrolledAt} with ${identity.center}`);
  io.out(
    `chain: seq ${chain.seq} hash ${chain.hash.slice(0, 16)}${state.exists('inflight.ndjson') ? ' (a batch in flight)' : ''}`,
  );
  io.out(
    `policy v${policy.body.version}: process fields ${policy.body.fields.process.join(',') || '-'}; socket fields ${policy.body.fields.socket.join(',') || '-'}; command lines never read`,
  );
  io.out(
    iocs.adopted
      ? `iocs v${iocs.body.version}: ${iocs.body.sha256.length} sha256, ${iocs.body.ipPorts.length} ip:port, ${iocs.body.domains.length} domains (${iocs.body.resolved.length} with addresses the centre resolved)`
      : 'iocs: none yet',
  );
  io.out(
    `spool: ${spool.events} events, ${spool.bytes} bytes; dropped ${counters.droppedEvents}; sent today ${counters.sentBytesToday} bytes`,
  );
  if (last)
    io.out(
      `last tick ${String(last.at)}: cpu ${String(last.cpuPercent)}% rss ${String(last.rssMb)} MB interval ${String(last.intervalMs)} ms${last.lastError ? `; last error: ${String(last.lastError)}` : ''}`,
    );
  return 0;
}
