/**
 * `npm run build:sensor`: the terminal sensor as one reproducible file, with its SBOM.
 *
 * The bundle (esbuild, ESM for node 20, not minified so it can be read) holds sensor/ and what
 * it imports: src/sensor/protocol.ts and zod. The same commit gives the same bytes: esbuild's
 * output is deterministic for the same inputs and options, paths are relative to the
 * repository, and the one timestamp (in the banner and the SBOM) is SOURCE_DATE_EPOCH, or the
 * commit's time when it is unset. Prints the bundle's SHA-256, which a centre puts on its
 * allow-list of digests accepted at enrolment.
 *
 *   npm run build:sensor [-- --out DIR]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build, version as esbuildVersion, type Metafile } from 'esbuild';

const repo = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const BUNDLE_NAME = 'tsunagi-sensor.mjs';
const SBOM_NAME = 'tsunagi-sensor.cdx.json';

const sha256 = (data: string | Uint8Array) => createHash('sha256').update(data).digest('hex');

function buildEpoch(): number {
  const fromEnv = process.env.SOURCE_DATE_EPOCH;
  if (fromEnv !== undefined && fromEnv !== '') {
    if (!/^\d+$/.test(fromEnv)) throw new Error('SOURCE_DATE_EPOCH must be whole seconds since the epoch');
    return Number(fromEnv);
  }
  try {
    return Number(execFileSync('git', ['log', '-1', '--format=%ct'], { cwd: repo, encoding: 'utf8' }).trim());
  } catch {
    return 0;
  }
}

function commit(): string {
  try {
    return execFileSync('git', ['rev-parse', 'HEAD'], { cwd: repo, encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

interface PackageInfo {
  name: string;
  version: string;
  license?: string;
  dir: string;
}

/** The npm package an input path of the metafile belongs to (the innermost node_modules). */
function packageOf(input: string): string | null {
  const match = /(?:^|\/)node_modules\/((?:@[^/]+\/)?[^/]+)\/(?!.*\/node_modules\/)/.exec(input);
  return match ? input.slice(0, match.index + match[0].length - 1) : null;
}

function readPackage(dir: string): PackageInfo {
  const json = JSON.parse(readFileSync(join(repo, dir, 'package.json'), 'utf8')) as {
    name: string;
    version: string;
    license?: string;
  };
  return { name: json.name, version: json.version, ...(json.license ? { license: json.license } : {}), dir };
}

/** CycloneDX 1.5 of what went into the bundle: npm packages with versions, first-party files with digests. */
export function sbomOf(metafile: Metafile, bundle: Uint8Array, epoch: number, sourceCommit: string): object {
  const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as {
    version: string;
    license: string;
  };
  const packages = new Map<string, PackageInfo>();
  const files: string[] = [];
  for (const input of Object.keys(metafile.inputs).sort()) {
    const dir = packageOf(input);
    if (dir) {
      if (!packages.has(dir)) packages.set(dir, readPackage(dir));
    } else files.push(input);
  }
  const digest = sha256(bundle);
  const rootRef = `pkg:npm/tsunagi-sensor@${root.version}`;
  const libraries = [...packages.values()]
    .sort((a, b) => a.name.localeCompare(b.name) || a.version.localeCompare(b.version))
    .map((p) => {
      const purl = `pkg:npm/${p.name.replace('@', '%40')}@${p.version}`;
      return {
        type: 'library',
        'bom-ref': purl,
        name: p.name,
        version: p.version,
        purl,
        ...(p.license ? { licenses: [{ expression: p.license }] } : {}),
      };
    });
  const sources = files.map((file) => ({
    type: 'file',
    'bom-ref': `file:${file}`,
    name: file,
    hashes: [{ alg: 'SHA-256', content: sha256(readFileSync(join(repo, file))) }],
  }));
  // A serial number that is a function of the bundle: the same bundle, the same SBOM bytes.
  const uuid = digest.slice(0, 32).replace(/^(.{8})(.{4}).(.{3}).(.{3})(.{12})$/, '$1-$2-5$3-8$4-$5');
  return {
    bomFormat: 'CycloneDX',
    specVersion: '1.5',
    serialNumber: `urn:uuid:${uuid}`,
    version: 1,
    metadata: {
      timestamp: new Date(epoch * 1000).toISOString(),
      tools: { components: [{ type: 'application', name: 'esbuild', version: esbuildVersion }] },
      component: {
        type: 'application',
        'bom-ref': rootRef,
        name: 'tsunagi-sensor',
        version: root.version,
        licenses: [{ expression: root.license }],
        hashes: [{ alg: 'SHA-256', content: digest }],
        properties: [{ name: 'tsunagi:commit', value: sourceCommit }],
      },
    },
    components: [...libraries, ...sources],
    dependencies: [
      {
        ref: rootRef,
        dependsOn: [...libraries.map((l) => l['bom-ref']), ...sources.map((s) => s['bom-ref'])],
      },
    ],
  };
}

export async function buildSensor(
  outDir: string,
): Promise<{ bundlePath: string; sbomPath: string; digest: string }> {
  const epoch = buildEpoch();
  const root = JSON.parse(readFileSync(join(repo, 'package.json'), 'utf8')) as { version: string };
  const result = await build({
    absWorkingDir: repo,
    entryPoints: ['sensor/cli.ts'],
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    write: false,
    metafile: true,
    outfile: join(outDir, BUNDLE_NAME),
    define: { TSUNAGI_SENSOR_BUNDLE: 'true' },
    banner: {
      js: `#!/usr/bin/env node\n// tsunagi-sensor ${root.version}, built ${new Date(epoch * 1000).toISOString()} (SOURCE_DATE_EPOCH ${epoch})`,
    },
    legalComments: 'eof',
    charset: 'utf8',
    logLevel: 'silent',
  });
  const bundle = result.outputFiles[0]!.contents;
  const digest = sha256(bundle);
  mkdirSync(outDir, { recursive: true });
  const bundlePath = join(outDir, BUNDLE_NAME);
  const sbomPath = join(outDir, SBOM_NAME);
  writeFileSync(bundlePath, bundle, { mode: 0o755 });
  writeFileSync(`${bundlePath}.sha256`, `${digest}  ${BUNDLE_NAME}\n`);
  writeFileSync(sbomPath, `${JSON.stringify(sbomOf(result.metafile, bundle, epoch, commit()), null, 2)}\n`);
  return { bundlePath, sbomPath, digest };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    const { values } = parseArgs({ options: { out: { type: 'string' } }, strict: true });
    const { bundlePath, sbomPath, digest } = await buildSensor(
      resolve(values.out ?? join(repo, 'dist', 'sensor')),
    );
    process.stdout.write(`${digest}  ${bundlePath}\nsbom: ${sbomPath}\n`);
  } catch (error) {
    process.stderr.write(`build:sensor: ${(error as Error).message.split('\n')[0]}\n`);
    process.exitCode = 1;
  }
}
