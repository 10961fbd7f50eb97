/**
 * recog's whole database: every <example> of every shipped file goes through tsunagi's matcher
 * and must yield exactly the params recog expects, unless it is listed in UNSUPPORTED with why.
 */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { RECOG_DIR } from './harness/lab.ts';
import { RECOG_FILES } from './index.ts';
import {
  Recog,
  applyFingerprint,
  translatePattern,
  type RecogFingerprint,
  type RecogExample,
} from './recog.ts';

/**
 * Examples tsunagi's matcher cannot reproduce, keyed `file#fingerprint-index#example-index`,
 * with the reason. Empty: every example of recog's database passes. Add here only with a reason
 * a reader can check, never to make a failure go away.
 */
const UNSUPPORTED = new Map<string, string>();

/** Why `example` fails its fingerprint, or undefined when it yields every expected param. */
function exampleFailure(fp: RecogFingerprint, example: RecogExample): string | undefined {
  const params = applyFingerprint(fp, example.text);
  if (!params) return `/${fp.regex.source}/${fp.regex.flags} does not match ${JSON.stringify(example.text)}`;
  const wrong = Object.entries(example.expect)
    .filter(([name, value]) => params[name] !== value)
    .map(
      ([name, value]) => `${name}: expected ${JSON.stringify(value)}, got ${JSON.stringify(params[name])}`,
    );
  return wrong.length > 0 ? wrong.join('; ') : undefined;
}

/** The <example> elements of a recog file counted on the raw text, apart from the XML parser. */
function countExamplesInText(path: string): number {
  const text = readFileSync(path, 'utf8').replace(/<!--[\s\S]*?-->/g, '');
  return text.match(/<example[\s/>]/g)?.length ?? 0;
}

describe('recog', () => {
  const recog = Recog.load(RECOG_DIR);
  const files = readdirSync(RECOG_DIR).filter((f) => f.endsWith('.xml'));

  test('ships all of recog: every file parses and no fingerprint is skipped', () => {
    assert.ok(files.length >= 50, `${files.length} recog files shipped`);
    assert.deepEqual(recog.names, files.map((f) => f.slice(0, -4)).sort());
    for (const name of RECOG_FILES) assert.ok(recog.databases.has(name), name);
    for (const db of recog.databases.values()) assert.deepEqual(db.skipped, [], db.name);
  });

  test('every example of every file yields its expected params', () => {
    let examples = 0;
    let withParams = 0;
    let fingerprints = 0;
    const failures: string[] = [];
    const unsupported: string[] = [];
    for (const file of files) {
      const db = recog.database(file.slice(0, -4))!;
      let inFile = 0;
      for (const fp of db.fingerprints) {
        fingerprints++;
        fp.examples.forEach((example, index) => {
          inFile++;
          if (Object.keys(example.expect).length > 0) withParams++;
          const key = `${fp.id}#${index}`;
          const failure = exampleFailure(fp, example);
          const reason = UNSUPPORTED.get(key);
          if (reason !== undefined) {
            assert.ok(failure, `${key} is listed as unsupported but passes: remove it from UNSUPPORTED`);
            unsupported.push(`${key}: ${reason}`);
          } else if (failure) failures.push(`${key} (${fp.description}): ${failure}`);
        });
      }
      assert.equal(
        inFile,
        countExamplesInText(join(RECOG_DIR, file)),
        `${file}: examples lost by the parser`,
      );
      examples += inFile;
    }
    const passing = examples - failures.length - unsupported.length;
    console.log(
      `recog: ${files.length} files, ${fingerprints} fingerprints, ${examples} examples ` +
        `(${withParams} with expected params): ${passing} pass, ${unsupported.length} unsupported, ${failures.length} fail`,
    );
    for (const line of unsupported) console.log(`  unsupported ${line}`);
    assert.ok(examples >= 7525, `${examples} examples`);
    assert.deepEqual(failures, []);
  });

  test('a survey pays only for the files its probes read', () => {
    const lazy = Recog.open(RECOG_DIR);
    assert.equal(lazy.databases.size, 0);
    assert.equal(
      lazy.match('ssh_banners', 'OpenSSH_7.4p1 Debian-10+deb9u7')?.params['service.version'],
      '7.4p1',
    );
    assert.deepEqual([...lazy.databases.keys()], ['ssh_banners']);
    assert.equal(lazy.match('no_such_file', 'x'), undefined);
    assert.throws(() => Recog.load(RECOG_DIR, ['no_such_file']), /no_such_file\.xml: no such recog file/);
  });

  test('first match wins and interpolates CPE templates', () => {
    const m = recog.match('ssh_banners', 'OpenSSH_7.4p1 Debian-10+deb9u7');
    assert.ok(m);
    assert.equal(m.params['service.vendor'], 'OpenBSD');
    assert.equal(m.params['service.version'], '7.4p1');
    assert.match(m.params['service.cpe23'] ?? '', /openssh:7\.4p1/);
  });

  test('Ruby syntax is translated', () => {
    assert.ok(translatePattern('\\Afoo\\z').test('foo'));
    assert.ok(!translatePattern('\\Afoo\\z').test('x\nfoo'));
    assert.ok(translatePattern('(?i)^abc$').test('ABC'));
    assert.ok(translatePattern('^\\h+$').test('0fA9'));
    assert.ok(translatePattern('^a++b$').test('aab'));
    assert.ok(translatePattern('^[[:digit:]]+$').test('42'));
    assert.ok(translatePattern('^a.b$').test('a\rb'), 'Ruby dot matches CR');
    assert.ok(!translatePattern('^a.b$').test('a\nb'));
    assert.ok(translatePattern('^a.b$', ['REG_DOT_NEWLINE']).test('a\nb'));
    assert.throws(() => translatePattern('(?x) a b'));
  });
});
