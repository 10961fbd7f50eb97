/** The shared-address flags of `tsunagi detect`/`start` (README: Bot list) become detect config. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { homeFlags } from './commands/detect.ts';
import { startFlags } from './commands/start.ts';

describe('shared-address flags', () => {
  test('--map-e, --ds-lite and --home-prefix6 become detect config; bad values are usage errors', () => {
    assert.deepEqual(homeFlags({ mapE: ['203.0.113.0/24,psid-len=4,offset=6'], homePrefix6: '64' }), {
      sharedAddressRules: [{ kind: 'map-e', pool: '203.0.113.0/24', psidLength: 4, psidOffset: 6 }],
      homePrefixLength6: 64,
    });
    assert.deepEqual(homeFlags({ dsLite: ['192.0.0.0/29,psid-len=6,offset=0'] }).sharedAddressRules, [
      { kind: 'ds-lite', pool: '192.0.0.0/29', psidLength: 6, psidOffset: 0 },
    ]);
    assert.throws(() => homeFlags({ mapE: ['203.0.113.0/24,psid-len=12,offset=6'] }), /at most 16/);
    assert.throws(() => homeFlags({ mapE: ['203.0.113.0/24,ratio=4'] }), /unknown option/);
    assert.throws(() => homeFlags({ homePrefix6: '128' }), /--home-prefix6/);
    const flags = startFlags(
      { shareRoot: 'council', localDetect: true, mapE: ['203.0.113.0/24,psid-len=4'] },
      {},
    );
    assert.deepEqual((flags.detect as { sharedAddressRules: unknown[] }).sharedAddressRules.length, 1);
  });
});
