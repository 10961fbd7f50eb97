/** The console's runbook route: full tier only, in the language asked for, empty when the process has none. */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { RunbookBody, RunbookView } from './api/types.ts';
import { startTestHub, type TestHub } from './testing.ts';

/** A runbook as the CLI's writer would hand it, marked with the language it was asked in. */
function runbookIn(lang: 'ja' | 'en'): RunbookView {
  return {
    lang,
    title: `runbook ${lang}`,
    intro: 'intro',
    configuration: [{ name: 'flow.listen', value: '0.0.0.0:2055' }],
    procedures: [
      {
        stage: 'intake',
        id: 'intake-flows',
        title: 'Flow collection',
        when: 'the collector is down',
        steps: [{ text: 'capture', command: 'tcpdump -i any udp port 2055' }],
        check: 'flows/s rises',
      },
    ],
  };
}

describe('console runbook API', () => {
  let hub: TestHub;
  let bare: TestHub;
  const asked: string[] = [];
  before(async () => {
    [hub, bare] = await Promise.all([
      startTestHub({
        runbook: (lang) => {
          asked.push(lang);
          return runbookIn(lang);
        },
      }),
      startTestHub(),
    ]);
  });
  after(async () => {
    await hub.close();
    await bare.close();
  });
  const get = (base: TestHub, path: string, token: string) =>
    fetch(`${base.url}/console/api/${path}`, { headers: { authorization: `Bearer ${token}` } });

  test('a full-tier reader gets the runbook in the language asked for (Japanese by default)', async () => {
    const ja = (await (await get(hub, 'runbook', hub.tokens.full)).json()) as RunbookBody;
    assert.ok(ja.available);
    assert.equal(ja.title, 'runbook ja');
    const en = (await (await get(hub, 'runbook?lang=en', hub.tokens.full)).json()) as RunbookBody;
    assert.ok(en.available && en.procedures[0]!.steps[0]!.command === 'tcpdump -i any udp port 2055');
    assert.deepEqual(asked, ['ja', 'en']);
  });

  test("council and public readers are refused: it names the operator's ports and paths", async () => {
    for (const tier of ['council', 'public'] as const)
      assert.equal((await get(hub, 'runbook', hub.tokens[tier])).status, 403, tier);
  });

  test('a bad language is a 400; a process with no runbook answers available: false', async () => {
    assert.equal((await get(hub, 'runbook?lang=fr', hub.tokens.full)).status, 400);
    const body = (await (await get(bare, 'runbook', bare.tokens.full)).json()) as RunbookBody;
    assert.deepEqual(body, { available: false });
  });
});
