/**
 * Hub administration commands (all take --data DIR, or use $TSUNAGI_DATABASE_URL):
 * `org add|consent|list`, `token create|revoke`, `import FILE --org NAME`, `export c2|bots|rpz|suricata`,
 * `audit verify|export`, `review list|approve|edit|refuse`.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { Registry } from 'prom-client';
import { InputError, makeDirectories, silentLogger, TsunagiError, UsageError } from '../../core/index.ts';
import { createIntel, IntelConfig, type Tier, TIERS } from '../../intel/index.ts';
import {
  createAuditLog,
  createHub,
  HubConfig,
  ROLES,
  SCOPES,
  applyWithdrawals,
  capSubmission,
  REVIEW_STATUSES,
  type ReviewEntry,
  type ReviewStatus,
  releaseRule,
  sightingsFromCsv,
  sightingsFromStix,
  type Ingested,
  verifyExport,
  checkpointFile,
  loadSigner,
  parseCheckpointFile,
  type Checkpoint,
  type ExportName,
  type ExportReader,
  type Role,
  type Scope,
  type StixObject,
} from '../../share/index.ts';
import { importSurveyFindings } from '../findings-import.ts';
import { requireDataDir, type CliContext } from '../context.ts';
import { outputDirectoryOption } from '../output.ts';
import { cliDataDir, openCliStore } from '../hub-stack.ts';

const collectRepeat = (value: string, previous: string[] = []) => [...previous, value];

/** `export c2 --format X`: the one list format (csv) and the others by name. */
const C2_FORMATS: Record<string, ExportName> = {
  csv: 'c2.csv',
  feodo: 'c2.feodo.csv',
  txt: 'c2.txt',
  stix: 'c2.stix.json',
  misp: 'misp.json',
};
const EXPORTS: Record<string, ExportName> = {
  bots: 'bots.txt',
  rpz: 'domains.rpz',
  suricata: 'suricata.rules',
  misp: 'misp.json',
};

/** A table entry by a name the user typed (`toString` is not an export). */
function pick<T>(table: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(table, key) ? table[key] : undefined;
}

function writeFeed(dir: string, files: Record<string, string>): void {
  makeDirectories(dir);
  for (const [file, text] of Object.entries(files)) writeFileSync(join(dir, file), text);
}

/** For the commands that read or change a hub: its data directory must exist (see requireDataDir). */
async function withHub<T>(
  data: string | undefined,
  ctx: CliContext,
  work: (parts: Awaited<ReturnType<typeof openHubParts>>) => Promise<T>,
): Promise<T> {
  requireDataDir(data, ctx.env);
  return withNewOrExistingHub(data, ctx, work);
}

/** Opens everything a command needs and always closes the store; `org add` may start a hub. */
async function withNewOrExistingHub<T>(
  data: string | undefined,
  ctx: CliContext,
  work: (parts: Awaited<ReturnType<typeof openHubParts>>) => Promise<T>,
): Promise<T> {
  const parts = await openHubParts(data, ctx);
  try {
    return await work(parts);
  } finally {
    try {
      // What this command appended is signed before the process goes.
      await parts.audit.checkpoint();
    } finally {
      await parts.store.close();
    }
  }
}

/** The data directory's store with intel, the audit log and the hub on it, nothing listening. */
export async function openHubParts(data: string | undefined, ctx: CliContext) {
  const dataDir = cliDataDir(data, ctx.env);
  const store = await openCliStore(dataDir, ctx.env);
  const registry = new Registry();
  const logger = silentLogger();
  const audit = createAuditLog({ store, signer: loadSigner(dataDir) });
  const intel = createIntel(IntelConfig.parse({}), { store, logger, registry, audit });
  const hub = createHub(HubConfig.parse({ listen: '', publishIntervalMs: 0 }), {
    store,
    intel,
    audit,
    logger,
    registry,
  });
  return { store, audit, intel, hub, orgs: hub.orgs };
}

/** A file's text; InputError (exit 2) when it cannot be read. */
function readInput(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch (error) {
    throw new InputError(`cannot read ${file}: ${(error as Error).message}`);
  }
}

/** The local operator, as the audit log names them. */
function operator(ctx: CliContext): string {
  return `cli:${ctx.env.USER ?? ctx.env.LOGNAME ?? 'operator'}`;
}

export function register(program: Command, ctx: CliContext): void {
  addHubCommands(program, ctx);
  // The same commands grouped under `tsunagi hub ...`, for those who look for them there.
  addHubCommands(
    program.command('hub').description('hub administration: org, token, import, export, audit'),
    ctx,
  );
}

function addHubCommands(program: Command, ctx: CliContext): void {
  addOrgCommands(program, ctx);
  addTokenCommands(program, ctx);
  addImportCommands(program, ctx);
  addExportCommand(program, ctx);
  addReviewCommands(program, ctx);
  addAuditCommands(program, ctx);
}

const dataOption = ['-d, --data <dir>', 'data directory (default .tsunagi, or $TSUNAGI_DATA)'] as const;

/** The organisations that share through the hub: add, consent, list. */
function addOrgCommands(program: Command, ctx: CliContext): void {
  const org = program.command('org').description('organisations that share through the hub');
  org
    .command('add <name>')
    .description('add an organisation with its role (and so its tier)')
    .requiredOption('--role <role>', `one of ${ROLES.join(', ')}`)
    .option('--consent', 'record consent to the council confidentiality terms now')
    .option('--terms <name>', 'name of the terms consented to', 'council-confidentiality-v1')
    .option('--prefix <cidr>', 'an address prefix the organisation holds (repeatable)', collectRepeat)
    .option('--asn <asn>', 'an AS number the organisation holds (repeatable)', collectRepeat)
    .option(...dataOption)
    .action(
      async (
        name: string,
        o: {
          role: string;
          consent?: boolean;
          terms: string;
          prefix?: string[];
          asn?: string[];
          data?: string;
        },
      ) => {
        if (!(ROLES as readonly string[]).includes(o.role))
          throw new UsageError(`--role must be one of ${ROLES.join(', ')}`);
        const asns = (o.asn ?? []).map((a) => {
          const n = Number(a.replace(/^AS/i, ''));
          if (!Number.isInteger(n) || n < 0 || n > 4294967295) throw new UsageError(`bad AS number "${a}"`);
          return n;
        });
        await withNewOrExistingHub(o.data, ctx, async ({ orgs }) => {
          const added = await orgs.add(
            {
              name,
              role: o.role as Role,
              consent: Boolean(o.consent),
              consentTerms: o.terms,
              prefixes: o.prefix ?? [],
              asns,
            },
            operator(ctx),
          );
          ctx.stdout.write(
            `${added.name}\trole ${added.role}\ttier ${added.tier}${added.consentAt ? '\tconsented' : ''}\n`,
          );
        });
      },
    );
  org
    .command('consent <name>')
    .description("record an organisation's consent to the council confidentiality terms")
    .option('--terms <name>', 'name of the terms consented to', 'council-confidentiality-v1')
    .option(...dataOption)
    .action(async (name: string, o: { terms: string; data?: string }) => {
      await withHub(o.data, ctx, async ({ orgs }) => {
        const updated = await orgs.recordConsent(name, o.terms, operator(ctx));
        ctx.stdout.write(`${updated.name}\ttier ${updated.tier}\tconsented ${updated.consentAt}\n`);
      });
    });
  org
    .command('list')
    .description('list organisations')
    .option(...dataOption)
    .action(async (o: { data?: string }) => {
      await withHub(o.data, ctx, async ({ orgs }) => {
        for (const x of await orgs.list())
          ctx.stdout.write(
            `${x.name}\trole ${x.role}\ttier ${x.tier}${x.consentAt ? '\tconsented' : ''}\tprefixes ${x.prefixes.length}\tasns ${x.asns.length}\n`,
          );
      });
    });
}

/** API tokens: create (shown once), revoke. */
function addTokenCommands(program: Command, ctx: CliContext): void {
  const token = program.command('token').description('API tokens (shown once, stored hashed)');
  token
    .command('create')
    .description('create a token for an organisation; prints the token alone on stdout')
    .requiredOption('--org <name>', 'organisation')
    .option('--scope <scopes>', `comma-separated: ${SCOPES.join(', ')}`, 'read,write')
    .option('--label <text>', 'a note to recognise the token by', '')
    .option(...dataOption)
    .action(async (o: { org: string; scope: string; label: string; data?: string }) => {
      const scopes = o.scope.split(',').map((s) => s.trim()) as Scope[];
      await withHub(o.data, ctx, async ({ orgs }) => {
        const created = await orgs.createToken(o.org, { scopes, label: o.label }, operator(ctx));
        ctx.stderr.write(
          `token id ${created.id} (keep the token now: it is not stored and cannot be shown again)\n`,
        );
        ctx.stdout.write(`${created.token}\n`);
      });
    });
  token
    .command('revoke <id>')
    .description('revoke a token by its id')
    .option(...dataOption)
    .action(async (id: string, o: { data?: string }) => {
      await withHub(o.data, ctx, async ({ orgs }) => {
        await orgs.revokeToken(id, operator(ctx));
        ctx.stdout.write(`revoked ${id}\n`);
      });
    });
}

/** A submission as read from a file: its sightings, the objects not understood, and its withdrawals. */
interface Submission {
  sightings: ReturnType<typeof sightingsFromCsv>;
  failures: { id: string; message: string }[];
  withdrawals: Ingested['withdrawals'];
}

/** Reads a STIX bundle or a C&C CSV as `submitter`'s submission; InputError when it is neither. */
function readSubmission(file: string, text: string, format: 'stix' | 'csv', submitter: string): Submission {
  if (format === 'csv') {
    try {
      return { sightings: sightingsFromCsv(text, submitter), failures: [], withdrawals: [] };
    } catch (error) {
      if (error instanceof InputError) throw new InputError(`${file} ${error.message}`);
      throw error;
    }
  }
  let bundle: { type?: string; objects?: unknown };
  try {
    bundle = JSON.parse(text) as typeof bundle;
  } catch (error) {
    throw new InputError(`${file} is not JSON: ${(error as Error).message}`);
  }
  if (bundle.type !== 'bundle' || !Array.isArray(bundle.objects))
    throw new InputError(`${file} is not a STIX bundle`);
  const read = sightingsFromStix(bundle.objects as StixObject[], submitter);
  return {
    sightings: read.sightings.map((s) => s.sighting),
    failures: read.failures,
    withdrawals: read.withdrawals,
  };
}

/**
 * Records a submission as over TAXII: sightings capped at the council tier (a claim of public
 * notice waits for review), and revoked indicators take the submitter's report back.
 */
async function recordSubmission(
  { intel, hub }: Awaited<ReturnType<typeof openHubParts>>,
  submission: Submission,
  submitter: string,
  ctx: CliContext,
): Promise<void> {
  const { sightings, withdrawals } = submission;
  const capped = capSubmission(sightings);
  let created = 0;
  let queued = 0;
  for (let i = 0; i < sightings.length; i += 5000) {
    const results = await intel.recordSightings(
      capped.sightings.slice(i, i + 5000),
      `${operator(ctx)} for ${submitter}`,
    );
    created += results.filter((r) => r.created).length;
    queued += await hub.reviews.queue(
      results
        .map((r, j) => ({ indicatorId: r.indicatorId, sighting: sightings[i + j]! }))
        .filter((_, j) => capped.asksPublic[i + j]),
      submitter,
    );
  }
  if (queued > 0) ctx.stdout.write(`queued ${queued} for public-notice review (tsunagi review list)\n`);
  const taken = await applyWithdrawals(intel, withdrawals, submitter, `${operator(ctx)} for ${submitter}`);
  const failures = [...submission.failures, ...taken.failures];
  ctx.stdout.write(
    `imported ${sightings.length} sightings from ${submitter} (${created} new indicators, ${failures.length} not understood)\n`,
  );
  if (withdrawals.length > 0)
    ctx.stdout.write(
      `revoked ${withdrawals.length - taken.failures.length} reports of ${submitter} (${taken.withdrawn} indicators withdrawn, no other source)\n`,
    );
  for (const f of failures.slice(0, 20)) ctx.stderr.write(`skipped ${f.id}: ${f.message}\n`);
}

/** Imports into intel: survey findings, and submissions (STIX bundles, C&C CSV) from an organisation. */
function addImportCommands(program: Command, ctx: CliContext): void {
  program
    .command('import-findings <file>')
    .description(
      'record `tsunagi survey run` findings (JSON lines) into intel; each ISP receives its own over TAXII (/network/)',
    )
    .requiredOption('--source <name>', 'the named source of the sightings, e.g. the survey plan')
    .option(...dataOption)
    .action(async (file: string, o: { source: string; data?: string }) => {
      await withHub(o.data, ctx, async ({ intel }) => {
        const result = await importSurveyFindings(intel, file, o.source, operator(ctx));
        ctx.stdout.write(
          `imported ${result.findings} findings from ${o.source} (${result.created} new indicators)\n`,
        );
      });
    });

  program
    .command('import <file>')
    .description('import a STIX bundle or a C&C CSV as a submission from an organisation')
    .requiredOption('--org <name>', 'the submitting organisation (the sightings are credited to it)')
    .option('--format <format>', 'auto, stix or csv', 'auto')
    .option(...dataOption)
    .action(async (file: string, o: { org: string; format: string; data?: string }) => {
      const text = readInput(file);
      const format = o.format === 'auto' ? (text.trimStart().startsWith('{') ? 'stix' : 'csv') : o.format;
      if (format !== 'stix' && format !== 'csv') throw new UsageError('--format must be auto, stix or csv');
      await withHub(o.data, ctx, async (parts) => {
        const submitter = await parts.orgs.get(o.org);
        if (!submitter) throw new InputError(`no organisation "${o.org}"`);
        await recordSubmission(
          parts,
          readSubmission(file, text, format, submitter.name),
          submitter.name,
          ctx,
        );
      });
    });
}

/** `export <what>`: the hub's exports, read at a tier or as an organisation. */
function addExportCommand(program: Command, ctx: CliContext): void {
  program
    .command('export <what>')
    .description(
      'print an export: c2 (ip,port,proto,confidence,family; --format for others), bots (--org NAME), rpz (domains and C&C addresses), suricata, misp (a MISP feed with --out-dir)',
    )
    .option('--format <format>', `for c2: ${Object.keys(C2_FORMATS).join(', ')}`, 'csv')
    .option('--tier <tier>', `which product: ${TIERS.join(', ')}`, 'council')
    .option('--org <name>', 'for bots: the ISP whose prefixes and ASNs select the bots')
    .addOption(
      outputDirectoryOption(
        '--out-dir <dir>',
        'for misp: write the feed (manifest.json, hashes.csv, EVENT.json) here',
      ),
    )
    .option(...dataOption)
    .action(
      async (
        what: string,
        o: { format: string; tier: string; org?: string; outDir?: string; data?: string },
      ) => {
        if (!(TIERS as readonly string[]).includes(o.tier))
          throw new UsageError(`--tier must be one of ${TIERS.join(', ')}`);
        const name = what === 'c2' ? pick(C2_FORMATS, o.format) : pick(EXPORTS, what);
        if (!name)
          throw new UsageError(
            what === 'c2'
              ? `--format must be one of ${Object.keys(C2_FORMATS).join(', ')}, not "${o.format}"`
              : `export what? one of c2, ${Object.keys(EXPORTS).join(', ')}; not "${what}"`,
          );
        if (o.outDir && name !== 'misp.json') throw new UsageError('--out-dir is for export misp');
        await withHub(o.data, ctx, async ({ orgs, audit, hub }) => {
          let reader: ExportReader = releaseRule.tierReader(o.tier as Tier);
          if (name === 'bots.txt') {
            if (!o.org) throw new UsageError('export bots needs --org NAME');
            const isp = await orgs.get(o.org);
            if (!isp) throw new InputError(`no organisation "${o.org}"`);
            // The bots that organisation itself may receive (the release rule decides).
            reader = releaseRule.readerOfOrg(isp);
          }
          const result = await hub.export(name, reader);
          if (result.restricted)
            await audit.record({
              actor: operator(ctx),
              action: 'cli.export',
              target: `export:${name}`,
              reason: 'cli',
              detail: { count: result.count, tier: reader.tier, ...(o.org ? { org: o.org } : {}) },
            });
          if (o.outDir && result.files) {
            writeFeed(o.outDir, result.files);
            ctx.stderr.write(
              `tsunagi: MISP feed of ${result.count} indicators in ${o.outDir} (${Object.keys(result.files).join(', ')}); serve the directory over HTTP and add its URL as a MISP feed\n`,
            );
          } else ctx.stdout.write(result.body);
        });
      },
    );
}

/** The public-notice review queue: list, approve, refuse, edit. */
function addReviewCommands(program: Command, ctx: CliContext): void {
  const review = program
    .command('review')
    .description('the public-notice review queue: the analysis centre decides what reaches the public');
  const printEntry = (e: ReviewEntry) =>
    ctx.stdout.write(
      `${e.id}\t${e.status}\t${e.kind} ${e.value}${e.port ? `:${e.port}` : ''}${e.proto ? `/${e.proto}` : ''}\tfrom ${e.submittedBy}${e.family ? `\tfamily ${e.family}` : ''}${e.note ? `\tnote ${JSON.stringify(e.note)}` : ''}\n`,
    );
  review
    .command('list')
    .description('list review entries (pending by default)')
    .option('--status <status>', `${REVIEW_STATUSES.join(', ')} or all`, 'pending')
    .option(...dataOption)
    .action(async (o: { status: string; data?: string }) => {
      if (o.status !== 'all' && !(REVIEW_STATUSES as readonly string[]).includes(o.status))
        throw new UsageError(`--status must be one of ${REVIEW_STATUSES.join(', ')} or all`);
      await withHub(o.data, ctx, async ({ hub }) => {
        const entries = await hub.reviews.list(
          o.status === 'all' ? undefined : (o.status as ReviewStatus),
          10_000,
        );
        for (const e of entries) printEntry(e);
      });
    });
  review
    .command('approve <id>')
    .description('release the entry to public notice (refused when its marking does not allow it)')
    .option(...dataOption)
    .action(async (id: string, o: { data?: string }) => {
      await withHub(o.data, ctx, async ({ hub }) => printEntry(await hub.reviews.approve(id, operator(ctx))));
    });
  review
    .command('refuse <id>')
    .description('keep the entry out of public notice (revokes it there if it was approved)')
    .option('--note <text>', 'why')
    .option(...dataOption)
    .action(async (id: string, o: { note?: string; data?: string }) => {
      await withHub(o.data, ctx, async ({ hub }) =>
        printEntry(await hub.reviews.refuse(id, operator(ctx), o.note)),
      );
    });
  review
    .command('edit <id>')
    .description('edit a pending entry: the family public notice prints, a note')
    .option('--family <name>', 'the family to print')
    .option('--note <text>', 'a note')
    .option(...dataOption)
    .action(async (id: string, o: { family?: string; note?: string; data?: string }) => {
      if (o.family === undefined && o.note === undefined)
        throw new UsageError('edit what? --family or --note');
      await withHub(o.data, ctx, async ({ hub }) =>
        printEntry(
          await hub.reviews.edit(
            id,
            {
              ...(o.family !== undefined ? { family: o.family } : {}),
              ...(o.note !== undefined ? { note: o.note } : {}),
            },
            operator(ctx),
          ),
        ),
      );
    });
}

/** The audit log: verify (store or file), checkpoints export, export. */
function addAuditCommands(program: Command, ctx: CliContext): void {
  const auditCommand = program.command('audit').description('the append-only, hash-chained audit log');
  auditCommand
    .command('verify')
    .description(
      'verify the chain and its signed checkpoints (in the store, or an exported file); exit 1 when broken',
    )
    .option('--file <file>', 'verify an exported JSONL file instead of the store (offline)')
    .option(
      '--checkpoints <file>',
      'checkpoints exported earlier (audit checkpoints export) and kept elsewhere: the chain must pass each',
    )
    .option('--head <hash>', 'the head hash kept elsewhere: the log must end exactly there')
    .option(...dataOption)
    .action(async (o: { file?: string; checkpoints?: string; head?: string; data?: string }) => {
      const kept: Checkpoint[] | undefined = o.checkpoints
        ? parseCheckpointFile(readInput(o.checkpoints), o.checkpoints)
        : undefined;
      const options = {
        ...(o.head ? { expectHead: o.head } : {}),
        ...(kept ? { checkpoints: kept } : {}),
      };
      const result = o.file
        ? verifyExport(readInput(o.file), options)
        : await withHub(o.data, ctx, ({ audit }) => audit.verify(options));
      // A file with no audit record at all is the wrong file (2), not a broken chain (1).
      if (
        !result.ok &&
        o.file &&
        result.records === 0 &&
        /is not (JSON|an audit record)/.test(result.problem ?? '')
      )
        throw new InputError(`${o.file} is not an audit log export: ${result.problem}`);
      if (!result.ok)
        throw new TsunagiError(`audit log broken after ${result.records} good records: ${result.problem}`, 1);
      ctx.stdout.write(
        `ok: ${result.records} records, head ${result.head}, ${result.checkpoints} signed checkpoints hold\n`,
      );
    });
  auditCommand
    .command('checkpoints')
    .description('signed checkpoints of the chain')
    .command('export')
    .description(
      'sign the current head and print every checkpoint as JSON: keep the file elsewhere (the council) for audit verify --checkpoints',
    )
    .option(...dataOption)
    .action(async (o: { data?: string }) => {
      await withHub(o.data, ctx, async ({ audit }) => {
        await audit.checkpoint();
        ctx.stdout.write(checkpointFile(await audit.checkpoints()));
      });
    });
  auditCommand
    .command('export')
    .description('print the audit log as JSONL (verify it later with audit verify --file)')
    .option(...dataOption)
    .action(async (o: { data?: string }) => {
      await withHub(o.data, ctx, async ({ audit }) => {
        let after = 0;
        for (;;) {
          const page = await audit.list(after, 5000);
          if (page.length === 0) break;
          ctx.stdout.write(page.map((r) => `${JSON.stringify(r)}\n`).join(''));
          after = page[page.length - 1]!.seq;
        }
      });
    });
}
