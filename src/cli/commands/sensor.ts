/**
 * `tsunagi sensor`: the centre endpoint sensors report to (issue #19). `invite` prints a one-time
 * enrolment token for a ministry, `serve` runs the centre (mutual TLS, its own CA in the data
 * directory), `list` and `revoke` manage enrolled sensors, `ioc add` lists an executable hash
 * for them. IoC matches and connections to known C&C go into intel as sightings of
 * `sensor:<org>`; the IoC list is built from intel's indicators.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import type { Kysely } from 'kysely';
import {
  createLogger,
  createMetricsServer,
  createRegistry,
  InputError,
  Lifecycle,
  LogConfig,
  MetricsConfig,
  parseHostPort,
  untilSignal,
  UsageError,
} from '../../core/index.ts';
import { createIntel, createSensorIntake, IntelConfig, iocListFromIntel } from '../../intel/index.ts';
import {
  addSensorHash,
  createSensorCentre,
  createSensorReader,
  inviteSensor,
  revokeSensorById,
  SensorCentreConfig,
  type SensorTables,
} from '../../sensor/index.ts';
import type { Store } from '../../store/index.ts';
import { requireDataDir, type CliContext } from '../context.ts';
import { cliDataDir, openCliStore } from '../hub-stack.ts';

const DURATION_UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "30m", "24h", "7d" in milliseconds. */
export function parseDuration(text: string): number {
  const match = /^(\d{1,6})([smhd])$/.exec(text.trim());
  if (!match) throw new UsageError(`--ttl must be a number with s, m, h or d (such as 24h), not "${text}"`);
  const ms = Number(match[1]) * DURATION_UNITS[match[2]!]!;
  if (ms < 60_000 || ms > 30 * 86_400_000) throw new UsageError('--ttl must be between 1m and 30d');
  return ms;
}

/** The CA, server and policy keys of the centre: beside the store in the data directory. */
export function sensorPkiDir(data: string | undefined, env: NodeJS.ProcessEnv): string {
  return join(cliDataDir(data, env), 'sensor-pki');
}

async function withStore<T>(
  data: string | undefined,
  env: NodeJS.ProcessEnv,
  work: (db: Kysely<SensorTables>, store: Store) => Promise<T>,
): Promise<T> {
  const store = await openCliStore(data, env);
  try {
    return await work(store.db as unknown as Kysely<SensorTables>, store);
  } finally {
    await store.close();
  }
}

interface ServeOptions {
  listen: string;
  data?: string;
  bundleDigest: string[];
  bundleDigestsFile?: string;
  allowSourceDigests?: boolean;
  name: string[];
  resolver?: string[];
  metrics?: string;
}

function readDigests(options: ServeOptions): string[] {
  const isDigest = (text: string) => /^[0-9a-f]{64}$/.test(text);
  const bad = options.bundleDigest.find((digest) => !isDigest(digest));
  if (bad !== undefined)
    throw new UsageError(`--bundle-digest "${bad.slice(0, 80)}" is not 64 lowercase hex digits`);
  const digests = [...options.bundleDigest];
  if (options.bundleDigestsFile) {
    const file = options.bundleDigestsFile;
    const lines = readFileSync(file, 'utf8').split('\n');
    lines.forEach((line, index) => {
      const digest = line.replace(/#.*/, '').trim();
      if (digest === '') return;
      if (!isDigest(digest)) throw new InputError(`${file}: line ${index + 1} is not a sha256 digest`);
      digests.push(digest);
    });
  }
  return digests;
}

export async function runSensorServe(
  options: ServeOptions,
  ctx: CliContext,
  until: () => Promise<unknown> = untilSignal,
): Promise<void> {
  const { host, port } = parseHostPort(options.listen);
  const parsed = SensorCentreConfig.safeParse({
    host,
    port,
    pkiDir: sensorPkiDir(options.data, ctx.env),
    bundleDigests: readDigests(options),
    allowSourceDigests: Boolean(options.allowSourceDigests),
    serverNames: options.name,
    resolvers: options.resolver ?? [],
  });
  if (!parsed.success) throw new UsageError(`sensor serve: ${parsed.error.issues[0]!.message}`);
  const logger = createLogger(LogConfig.parse({}), ctx.stderr);
  const registry = createRegistry();
  const store = await openCliStore(options.data, ctx.env);
  const intel = createIntel(IntelConfig.parse({}), { store, logger, registry });
  const intake = createSensorIntake(intel, { logger });
  const centre = createSensorCentre(parsed.data, {
    db: store.db as unknown as Kysely<SensorTables>,
    logger,
    registry,
    iocSource: () => iocListFromIntel(intel),
    onObservations: (observations) => intake.record(observations),
  });
  const metrics = createMetricsServer(MetricsConfig.parse({ listen: options.metrics ?? '' }), {
    registry,
    logger,
  });
  const lifecycle = new Lifecycle(logger);
  try {
    await lifecycle.start([intel, centre, metrics]);
    const signalled = until === untilSignal ? untilSignal() : undefined;
    const address = centre.address();
    const shown = address.host.includes(':') ? `[${address.host}]` : address.host;
    ctx.stderr.write(
      `tsunagi sensor centre on https://${shown}:${address.port} (CA sha256 ${centre.caSha256}), store ${store.location}\n`,
    );
    await (signalled ?? until());
    await intake.settled();
  } finally {
    await lifecycle.stop();
    await store.close();
  }
}

function registerServe(sensor: Command, ctx: CliContext): void {
  sensor
    .command('serve')
    .description(
      'run the sensor centre: enrolment, signed policy and IoC lists, event batches over mutual TLS',
    )
    .requiredOption('-l, --listen <host:port>', 'address to listen on (HTTPS)')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA): store and the CA')
    .option(
      '--bundle-digest <sha256...>',
      'digest of a sensor bundle allowed to enrol (npm run build:sensor)',
      [],
    )
    .option('--bundle-digests-file <file>', 'more allowed bundle digests, one a line')
    .option(
      '--allow-source-digests',
      'also enrol sensors run from source (source:<sha256>): development only',
    )
    .option('--name <name...>', 'extra DNS names or addresses for the server certificate', [])
    .option(
      '--resolver <server...>',
      "resolvers (IP or IP:PORT) the centre asks for listed domains' addresses (default: the system's); sensors never resolve them",
      [],
    )
    .option('--metrics <host:port>', 'Prometheus metrics address (off unless given)')
    .action((options: ServeOptions) => runSensorServe(options, ctx));
}

function registerAdmin(sensor: Command, ctx: CliContext): void {
  sensor
    .command('invite')
    .description('print a one-time enrolment token for a sensor of ORG (single use, expires)')
    .requiredOption('--org <name>', 'the ministry or organisation the sensor belongs to')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .option('--ttl <duration>', 'how long the token is valid (such as 30m, 24h, 7d)', '24h')
    .action(async (options: { org: string; data?: string; ttl: string }) => {
      const ttlMs = parseDuration(options.ttl);
      const org = options.org.trim();
      if (!/^[\p{L}\p{N}][\p{L}\p{N} ._-]{0,99}$/u.test(org))
        throw new UsageError('--org must be a name of 1-100 letters, digits, spaces, . _ -');
      const { token, expiresAt } = await withStore(options.data, ctx.env, (db) =>
        inviteSensor(db, sensorPkiDir(options.data, ctx.env), org, ttlMs),
      );
      ctx.stdout.write(`${token}\n`);
      ctx.stderr.write(`tsunagi: token for a sensor of ${org}, single use, expires ${expiresAt}\n`);
    });

  sensor
    .command('list')
    .description('enrolled sensors: id, organisation, host, last seen, last batch seq, state')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .action(async (options: { data?: string }) => {
      requireDataDir(options.data, ctx.env);
      const rows = await withStore(options.data, ctx.env, (db) => createSensorReader(db).sensors());
      ctx.stdout.write('id\torg\thostname\tlast_seen\tseq\tstate\n');
      for (const row of rows)
        ctx.stdout.write(
          `${row.id}\t${row.org}\t${row.hostname}\t${row.lastSeen ?? '-'}\t${row.lastSeq}\t${row.revoked ? 'revoked' : 'active'}\n`,
        );
    });

  sensor
    .command('revoke')
    .description('revoke a sensor: its certificate is refused from now on and its key cannot enrol again')
    .argument('<id>', 'the sensor id (or a unique prefix of at least 8 hex digits)')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .action(async (id: string, options: { data?: string }) => {
      requireDataDir(options.data, ctx.env);
      const revoked = await withStore(options.data, ctx.env, (db) => revokeSensorById(db, id.toLowerCase()));
      if (!revoked) throw new InputError(`no single sensor with id ${id.slice(0, 80)}`);
      ctx.stderr.write(`tsunagi: sensor ${revoked} revoked\n`);
    });

  const ioc = sensor.command('ioc').description("the sensors' IoC list (besides what intel holds)");
  ioc
    .command('add')
    .description('list an executable SHA-256 for the sensors to match')
    .requiredOption('--sha256 <hex>', 'the SHA-256 of the executable (64 hex digits)')
    .option('--note <text>', 'why it is listed', '')
    .option('-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)')
    .action(async (options: { sha256: string; note: string; data?: string }) => {
      const sha256 = options.sha256.toLowerCase();
      if (!/^[0-9a-f]{64}$/.test(sha256)) throw new UsageError('--sha256 must be 64 hex digits');
      requireDataDir(options.data, ctx.env);
      const added = await withStore(options.data, ctx.env, (db) =>
        addSensorHash(db, sha256, options.note.slice(0, 500)),
      );
      ctx.stderr.write(`tsunagi: ${sha256} ${added ? 'added to' : 'already in'} the sensors' IoC list\n`);
    });
}

export function register(program: Command, ctx: CliContext): void {
  const sensor = program
    .command('sensor')
    .description('the endpoint sensor centre: invite, serve, list, revoke, ioc add');
  registerAdmin(sensor, ctx);
  registerServe(sensor, ctx);
}
