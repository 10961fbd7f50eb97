/** Every <example> in the recog files must match its own fingerprint with exactly the expected params. */
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { RECOG_DIR } from './harness/lab.ts';
import { RECOG_FILES } from './index.ts';
import { Recog, applyFingerprint, translatePattern } from './recog.ts';

describe('recog', () => {
  const recog = Recog.load(RECOG_DIR);

  test('loads every shipped file and skips no fingerprint', () => {
    for (const name of RECOG_FILES) assert.ok(recog.databases.has(name), name);
    for (const db of recog.databases.values()) assert.deepEqual(db.skipped, [], db.name);
  });

  for (const family of [
    'telnet_banners',
    'ssh_banners',
    'http_servers',
    'http_wwwauth',
    'html_title',
    'x509_subjects',
  ]) {
    test(`${family}: every example yields its expected params`, () => {
      const db = recog.databases.get(family);
      assert.ok(db && db.fingerprints.length > 50, family);
      let checked = 0;
      for (const fp of db.fingerprints) {
        for (const example of fp.examples) {
          const params = applyFingerprint(fp, example.text);
          assert.ok(
            params,
            `${fp.id} (${fp.description}) does not match its example ${JSON.stringify(example.text)}`,
          );
          for (const [name, value] of Object.entries(example.expect))
            assert.equal(params[name], value, `${fp.id} ${name}`);
          checked++;
        }
      }
      assert.ok(checked > 50);
    });
  }

  test('every loaded file: every example matches', () => {
    let failures = 0;
    for (const db of recog.databases.values()) {
      for (const fp of db.fingerprints) {
        for (const example of fp.examples) {
          const params = applyFingerprint(fp, example.text);
          if (!params || Object.entries(example.expect).some(([k, v]) => params[k] !== v)) failures++;
        }
      }
    }
    assert.equal(failures, 0);
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
