/** The bot list forms (README: Bot list) and the shared-address flags of `tsunagi detect`/`start`. */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
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
    // A bare address (intel's bots) keeps neither its place nor the family away from a named line.
    assert.deepEqual(
      mergeBotLists([['192.0.2.1,mirai', '192.0.2.2'], ['192.0.2.1', '192.0.2.3'], ['192.0.2.1']]),
      ['192.0.2.1,mirai', '192.0.2.2', '192.0.2.3'],
    );
  });
});
