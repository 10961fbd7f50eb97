/**
 * Names that are members of Object.prototype, wherever the scorer looks a key up in a table
 * (last label, platform suffix, subdomain and path tokens): a number and its verdict, never NaN.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Registry } from 'prom-client';
import { silentLogger } from '../../core/index.ts';
import { createWeb, WebConfig } from '../index.ts';

const MEMBERS = ['constructor', '__proto__', 'toString', 'valueOf', 'hasOwnProperty', '__defineGetter__'];

test('a table key named like an Object.prototype member scores a number', () => {
  const web = createWeb(WebConfig.parse({}), { logger: silentLogger(), registry: new Registry() });
  for (const member of MEMBERS) {
    const label = member.toLowerCase();
    for (const url of [
      `https://amazon-login.${label}/`,
      `https://${label}.amazon-login.top/`,
      `https://${label}.github.io/${member}/${member}?${member}=1`,
      `https://login.example.com/${member}/__proto__`,
    ]) {
      let scored;
      try {
        scored = web.score(url);
      } catch {
        continue; // a name the normaliser refuses (an underscore in a registrable label) never reaches a table
      }
      assert.ok(Number.isFinite(scored.score), `${url}: ${scored.score}`);
      assert.ok(Number.isFinite(scored.hostScore), `${url}: ${scored.hostScore}`);
      for (const reason of scored.reasons)
        assert.ok(Number.isFinite(reason.contribution), `${url}: ${reason.feature}`);
    }
  }
});
