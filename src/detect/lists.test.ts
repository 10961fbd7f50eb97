/** The bot list forms (README: Bot list) and the shared-address flags of `tsunagi detect`/`start`. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { homeFlags } from '../cli/commands/detect.ts';
import { startFlags } from '../cli/commands/start.ts';
import { BotListMerge, mergeBotLists, parseBotList } from './lists.ts';

describe('bot list', () => {
  test('every form, the family column, comments and rejects', () => {
    const list = parseBotList(
      [
        'bot,family',
        '198.51.100.7,mirai   # dedicated',
        '203.0.113.9:40123,mozi',
        '203.0.113.9:40960-41983',
        '10.1.0.0/16',
        '2001:db8:1:100::1,gafgyt',
        '2001:db8:2::/48',
        '203.0.113.9:70000',
        '198.51.100.8,bad family!',
        'not-an-address',
      ].join('\n'),
    );
    assert.deepEqual(list.entries, [
      '198.51.100.7,mirai',
      '203.0.113.9:40123,mozi',
      '203.0.113.9:40960-41983',
      '10.1.0.0/16',
      '2001:db8:1:100::1,gafgyt',
      '2001:db8:2::/48',
    ]);
    assert.deepEqual(
      list.rejected.map((r) => r.split(':')[0]),
      ['line 8', 'line 9', 'line 10'],
    );
  });

  test('without a header: first column the bot, optional second its family', () => {
    assert.deepEqual(parseBotList('198.51.100.7\n198.51.100.8,mirai\n').entries, [
      '198.51.100.7',
      '198.51.100.8,mirai',
    ]);
  });
});

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

describe('bot list merge', () => {
  test('each source is replaced on its own; a host named twice is one entry', () => {
    const applied: { entries: string[]; counts: Record<string, number> }[] = [];
    const merge = new BotListMerge(['file', 'intel', 'taxii'], (entries, counts) =>
      applied.push({ entries, counts }),
    );
    merge.set('intel', ['192.0.2.1', '192.0.2.2']);
    merge.set('file', ['198.51.100.7,mirai', '192.0.2.1']);
    merge.set('taxii', ['192.0.2.2', '203.0.113.9']);
    assert.deepEqual(applied.at(-1), {
      entries: ['198.51.100.7,mirai', '192.0.2.1', '192.0.2.2', '203.0.113.9'],
      counts: { file: 2, intel: 2, taxii: 2 },
    });
    merge.set('intel', []);
    assert.deepEqual(applied.at(-1)!.entries, [
      '198.51.100.7,mirai',
      '192.0.2.1',
      '192.0.2.2',
      '203.0.113.9',
    ]);
    merge.set('taxii', []);
    assert.deepEqual(applied.at(-1)!.entries, ['198.51.100.7,mirai', '192.0.2.1']);
    assert.deepEqual(mergeBotLists([['a', 'b'], ['b', 'c'], []]), ['a', 'b', 'c']);
  });
});
