/**
 * Runbooks: for each automated step (intake, detection, sharing, notification) the procedure a
 * person follows when the automation is unavailable, written from the configuration in use so it
 * names the real ports, paths, collections and commands. The CLI hands the configuration over
 * as a plain `RunbookInput`; a change of configuration changes the runbook with it.
 */
import type { Lang } from './config.ts';
import { formatDateTime, labels } from './i18n.ts';
import { escapeXml as esc } from './svg.ts';
import { REPORT_CSS } from './html.ts';

export interface RunbookInput {
  /** How the operator runs tsunagi (`tsunagi`, or `bin/tsunagi` in a checkout). */
  command: string;
  /** The configuration file read, if any. */
  configFile?: string;
  dataDir: string;
  /** Where the store is: the SQLite file, or the PostgreSQL URL's host (never its password). */
  store: string;
  flowListen: readonly string[];
  hubUrl: string;
  metricsListen: string;
  detectorSource: string;
  botsFile: string;
  subscriberPrefixes: readonly string[];
  darknet: { interface: string; prefixes: readonly string[]; source: string };
  nats: { enabled: boolean; url: string };
  collections: readonly { apiRoot: string; id: string; title: string }[];
  shareTo?: { url: string; apiRoot: string; collection: string };
  /** The notify room's routing file, or '' when none is configured. */
  notifyRouting: string;
  /** The OSINT feeds `tsunagi start` reads, and how often (none: no automated OSINT step). */
  osint?: { feeds: readonly { name: string; url: string }[]; intervalMs: number };
}

export interface RunbookStep {
  text: string;
  command?: string;
}

export interface RunbookProcedure {
  stage: 'intake' | 'detection' | 'sharing' | 'notification';
  id: string;
  title: string;
  when: string;
  steps: RunbookStep[];
  check: string;
}

export interface Runbook {
  lang: Lang;
  title: string;
  intro: string;
  configuration: { name: string; value: string }[];
  procedures: RunbookProcedure[];
}

/** Shell-quotes a value when it needs it. */
export function sh(value: string): string {
  return /^[A-Za-z0-9_./:=@,+-]+$/.test(value) ? value : `'${value.replace(/'/g, `'\\''`)}'`;
}

const portOf = (listen: string) => listen.slice(listen.lastIndexOf(':') + 1);

function configuration(input: RunbookInput, lang: Lang): { name: string; value: string }[] {
  const t = labels(lang);
  const none = t('configNone');
  const off = t('configOff');
  return [
    { name: t('configFile'), value: input.configFile ?? t('configNoFile') },
    { name: 'data', value: input.dataDir },
    { name: 'store', value: input.store },
    { name: 'flow.listen', value: input.flowListen.join(', ') || none },
    { name: 'hub', value: input.hubUrl },
    { name: 'metrics.listen', value: input.metricsListen || off },
    { name: 'source', value: input.detectorSource },
    { name: 'detect.botsFile', value: input.botsFile || none },
    { name: 'detect.subscriberPrefixes', value: input.subscriberPrefixes.join(', ') || none },
    { name: 'darknet.interface', value: input.darknet.interface || off },
    { name: 'darknet.prefixes', value: input.darknet.prefixes.join(', ') || none },
    { name: 'nats', value: input.nats.enabled ? input.nats.url : off },
    {
      name: 'shareTo',
      value: input.shareTo
        ? `${input.shareTo.url} ${input.shareTo.apiRoot}/${input.shareTo.collection}`
        : off,
    },
    { name: 'notify.routing', value: input.notifyRouting || none },
    { name: 'osint.feeds', value: input.osint?.feeds.map((f) => f.name).join(', ') || none },
    {
      name: 'osint.intervalMs',
      value: input.osint?.intervalMs ? String(input.osint.intervalMs) : off,
    },
  ];
}

export function buildRunbook(input: RunbookInput, lang: Lang): Runbook {
  const t = labels(lang);
  const p = commonParts(input);
  return {
    lang,
    title: t('runbookTitle'),
    intro: t('runbookIntro'),
    configuration: configuration(input, lang),
    procedures: [...intake(input, p), ...detection(input, p), ...sharing(input, p), ...notification(p)].map(
      (procedure) => inLang(procedure, lang),
    ),
  };
}

/** A runbook text in each language it is written in. */
type Text = Record<Lang, string>;

/**
 * A procedure written once: its commands are the same in every language, only the words around
 * them are per language. `inLang` picks one language's words.
 */
interface Procedure {
  stage: RunbookProcedure['stage'];
  id: string;
  title: Text;
  when: Text;
  steps: { text: Text; command?: string }[];
  check: Text;
}

function inLang(procedure: Procedure, lang: Lang): RunbookProcedure {
  return {
    stage: procedure.stage,
    id: procedure.id,
    title: procedure.title[lang],
    when: procedure.when[lang],
    steps: procedure.steps.map((step) =>
      step.command === undefined
        ? { text: step.text[lang] }
        : { text: step.text[lang], command: step.command },
    ),
    check: procedure.check[lang],
  };
}

type Parts = ReturnType<typeof commonParts>;

function commonParts(i: RunbookInput) {
  const tsunagi = i.command;
  const data = `--data ${sh(i.dataDir)}`;
  const ports = i.flowListen.map(portOf);
  const capture = `tcpdump -i any -w flows-$(date +%Y%m%d%H%M).pcap ${ports.map((p) => `udp port ${p}`).join(' or ') || 'udp'}`;
  const bots = i.botsFile || 'bots.csv';
  const subscribers = i.subscriberPrefixes.length
    ? ` --subscribers ${i.subscriberPrefixes.map(sh).join(' ')}`
    : '';
  const council = i.collections.find((c) => c.apiRoot === 'council');
  const publicCollection = i.collections.find((c) => c.apiRoot === 'public');
  const routing = i.notifyRouting || 'routing.yaml';
  return { tsunagi, data, ports, capture, bots, subscribers, council, publicCollection, routing };
}

function intake(i: RunbookInput, p: Parts): Procedure[] {
  return [
    {
      stage: 'intake',
      id: 'intake-flows',
      title: {
        en: `Flow collection on ${i.flowListen.join(', ') || '(no port)'}`,
        ja: `フロー収集（${i.flowListen.join('、') || 'ポートなし'}）`,
      },
      when: {
        en: `The collector does not answer on UDP ${p.ports.join(', ')} or its flow rate stays at 0.`,
        ja: `コレクタが UDP ${p.ports.join('、')} で応答しない、またはフロー数が 0 のまま。`,
      },
      steps: [
        {
          text: {
            en: `Keep the routers exporting to the same ports. Record the export packets on this host:`,
            ja: 'ルータからのエクスポート先は変えずに、このホストでエクスポートパケットを記録する：',
          },
          command: p.capture,
        },
        {
          text: {
            en: 'Rotate the capture every hour; keep the files no longer than detection needs them (flows are never kept beyond it).',
            ja: '記録ファイルは 1 時間ごとに切り替え、検知に必要な期間を超えて保管しない（フローは検知の目的以外に保存しない）。',
          },
        },
        {
          text: {
            en: 'When the collector is back, restart it and hand the captures to detection by hand (procedure detection-offline).',
            ja: 'コレクタ復旧後に再起動し、記録ファイルを手作業で検知にかける（手順 detection-offline）。',
          },
        },
      ],
      check: {
        en: `${p.tsunagi} collect --listen ${i.flowListen[0] ?? '127.0.0.1:2055'} prints a rising flows/s once the collector is stopped.`,
        ja: `コレクタ停止中に ${p.tsunagi} collect --listen ${i.flowListen[0] ?? '127.0.0.1:2055'} を実行すると flows/s が増えていく。`,
      },
    },
    {
      stage: 'intake',
      id: 'intake-survey',
      title: { en: 'Survey findings into intel', ja: '調査結果の脅威情報（intel）への登録' },
      when: {
        en: 'A survey ran but its findings are not in the console.',
        ja: '調査は実施したが、結果がコンソールに表示されない。',
      },
      steps: [
        {
          text: {
            en: 'Record the findings file into the store:',
            ja: '調査結果ファイルをストアに登録する：',
          },
          command: `${p.tsunagi} import-findings findings.jsonl --source survey ${p.data}`,
        },
      ],
      check: {
        en: 'It prints "imported N findings"; the console\'s survey page counts them.',
        ja: '「imported N findings」と表示され、コンソールの調査ページに件数が出る。',
      },
    },
    darknetProcedure(i, p),
    osintProcedure(i, p),
  ];
}

/** An intake step whose automation is not configured: what can still be done by hand. */
function unconfigured(u: {
  id: string;
  title: Text;
  /** The setting that would turn the automation on (in Japanese, spaced from the kana that follow as the text needs). */
  setting: Text;
  /** The automated step's name in the sentence. */
  step: string;
  byHand: Procedure['steps'][number];
  check: Text;
}): Procedure {
  return {
    stage: 'intake',
    id: u.id,
    title: u.title,
    when: {
      en: `${u.setting.en} is not configured: there is no automated ${u.step} step to replace.`,
      ja: `${u.setting.ja}が設定されていないため、置き換える自動処理はない。`,
    },
    steps: [u.byHand],
    check: u.check,
  };
}

function darknetProcedure(i: RunbookInput, p: Parts): Procedure {
  if (!i.darknet.interface)
    return unconfigured({
      id: 'intake-darknet',
      title: { en: 'Darknet observation', ja: 'ダークネット観測' },
      setting: { en: 'darknet.interface', ja: 'darknet.interface ' },
      step: 'darknet',
      byHand: {
        text: {
          en: 'Captures from another darknet sensor can still be analysed:',
          ja: '他のセンサの記録は手作業で解析できる：',
        },
        command: `${p.tsunagi} darknet analyze FILE.pcap --prefix CIDR --bots darknet-bots.csv`,
      },
      check: { en: 'darknet-bots.csv lists hosts.', ja: 'darknet-bots.csv にホストが並ぶ。' },
    });
  return {
    stage: 'intake',
    id: 'intake-darknet',
    title: {
      en: `Darknet observation on ${i.darknet.interface}`,
      ja: `ダークネット観測（${i.darknet.interface}）`,
    },
    when: {
      en: `No darknet sightings (source ${i.darknet.source}) arrive for an hour.`,
      ja: `ダークネットの観測（ソース ${i.darknet.source}）が 1 時間以上届かない。`,
    },
    steps: [
      {
        text: { en: 'Capture the darknet traffic:', ja: 'ダークネットの通信を記録する：' },
        command: `tcpdump -i ${sh(i.darknet.interface)} -w darknet-$(date +%Y%m%d%H).pcap`,
      },
      {
        text: {
          en: 'Analyse each capture and write the infected hosts:',
          ja: '記録ごとに解析し、感染ホストを書き出す：',
        },
        command: `${p.tsunagi} darknet analyze darknet-*.pcap --prefix ${i.darknet.prefixes.map(sh).join(' ') || 'CIDR'} --bots darknet-bots.csv`,
      },
      {
        text: {
          en: `Give darknet-bots.csv to detection as its bot list (beside ${p.bots}).`,
          ja: `darknet-bots.csv を検知のボットリスト（${p.bots} と併用）として渡す。`,
        },
      },
    ],
    check: {
      en: "darknet-bots.csv lists hosts; the console's darknet page shows new scanners again after the restart.",
      ja: 'darknet-bots.csv にホストが並び、再起動後にコンソールのダークネットページで新規スキャナが再び表示される。',
    },
  };
}

/** OSINT intake by hand: one round over the feeds, or a saved advisory's indicators. */
function osintProcedure(i: RunbookInput, p: Parts): Procedure {
  const feeds = i.osint?.feeds ?? [];
  const config = i.configFile ? ` --config ${sh(i.configFile)}` : ' --config CONFIG.yaml';
  const extract = {
    text: {
      en: 'Save an advisory tsunagi cannot fetch (HTML, text or PDF) and take out its indicators:',
      ja: 'tsunagi が取得できない注意喚起は保存し（HTML・テキスト・PDF）、指標を取り出す：',
    },
    command: `${p.tsunagi} osint extract advisory.pdf --format csv > indicators.csv`,
  };
  if (feeds.length === 0)
    return unconfigured({
      id: 'intake-osint',
      title: { en: 'Published threat information (OSINT)', ja: '公開情報（OSINT）' },
      setting: { en: 'osint.feeds', ja: 'osint.feeds ' },
      step: 'OSINT',
      byHand: extract,
      check: { en: 'indicators.csv lists the indicators.', ja: 'indicators.csv に指標が並ぶ。' },
    });
  const names = feeds.map((f) => f.name).join(', ');
  const urls = feeds.map((f) => f.url).join(' ');
  const minutes = Math.round((i.osint?.intervalMs ?? 0) / 60_000);
  // Feeds with osint.intervalMs 0: start never reads them, so this command is the only round.
  const when: Text = i.osint?.intervalMs
    ? {
        en: `The round every ${minutes} min stopped (the pipeline's osint component stays a warning, or tsunagi_osint_rounds_total does not rise for two intervals).`,
        ja: `${minutes} 分ごとの巡回が止まった（パイプラインの osint が注意のまま、または tsunagi_osint_rounds_total が 2 周期増えない）。`,
      }
    : {
        en: 'osint.intervalMs is 0: tsunagi start does not read these feeds. Read them with the command below, by hand or from cron.',
        ja: 'osint.intervalMs が 0 のため tsunagi start はこれらのフィードを読まない。下のコマンドを手作業または cron で実行して読む。',
      };
  return {
    stage: 'intake',
    id: 'intake-osint',
    title: { en: `Published threat information (OSINT): ${names}`, ja: `公開情報（OSINT）: ${names}` },
    when,
    steps: [
      {
        text: { en: 'Read the feeds once by hand:', ja: 'フィードを手作業で一度読む：' },
        command: `${p.tsunagi} osint fetch${config} ${p.data}`,
      },
      {
        text: {
          en: `Open a feed that fails in a browser to see why: ${urls}`,
          ja: `読めないフィードはブラウザで開いて原因を確かめる：${urls}`,
        },
      },
      extract,
    ],
    check: {
      en: "osint fetch prints new documents and intel sightings; the console's OSINT page lists the documents.",
      ja: 'osint fetch が new documents（新しい文書）と intel sightings（脅威情報への登録）の件数を表示し、コンソールの公開情報ページに文書が並ぶ。',
    },
  };
}

function detection(i: RunbookInput, p: Parts): Procedure[] {
  return [
    {
      stage: 'detection',
      id: 'detection-offline',
      title: i.nats.enabled
        ? { en: `C&C detection (workers on ${i.nats.url})`, ja: `C&C 検知（${i.nats.url} のワーカ）` }
        : { en: 'C&C detection (in-process detector)', ja: 'C&C 検知（プロセス内の検知器）' },
      when: {
        en: 'The detector publishes nothing new while flows arrive, or the collector was down (captures from intake-flows).',
        ja: 'フローは届いているのに検知器が新たに何も公開しない、またはコレクタが停止していた（intake-flows の記録がある）。',
      },
      steps: [
        {
          text: {
            en: 'Run detection on the captured export packets:',
            ja: '記録したエクスポートパケットで検知を実行する：',
          },
          command: `${p.tsunagi} detect --flows flows-*.pcap --bots ${sh(p.bots)}${p.subscribers} --out c2.csv --explain`,
        },
        {
          text: {
            en: 'Read the explanation of each candidate; remove any you cannot confirm from c2.csv.',
            ja: '各候補の説明を読み、確認できないものは c2.csv から除く。',
          },
        },
        {
          text: {
            en: `Record the list in intel as the detector's source (${i.detectorSource}):`,
            ja: `検知器のソース（${i.detectorSource}）として脅威情報（intel）に登録する：`,
          },
          command: `${p.tsunagi} import c2.csv --org 'Analysis Centre' ${p.data}`,
        },
      ],
      check: {
        en: `${p.tsunagi} export c2 --tier full ${p.data} lists the imported servers.`,
        ja: `${p.tsunagi} export c2 --tier full ${p.data} に登録したサーバが並ぶ。`,
      },
    },
  ];
}

function sharing(i: RunbookInput, p: Parts): Procedure[] {
  const procedures: Procedure[] = [
    {
      stage: 'sharing',
      id: 'sharing-exports',
      title: { en: `TAXII at ${i.hubUrl}`, ja: `TAXII（${i.hubUrl}）` },
      when: {
        en: `Members cannot read ${i.hubUrl}/taxii2/ or the publisher falls behind.`,
        ja: `構成員が ${i.hubUrl}/taxii2/ を読めない、または公開処理が遅れている。`,
      },
      steps: [
        {
          text: {
            en: 'Write the council product (TLP:AMBER+STRICT) and the public notice (TLP:CLEAR):',
            ja: '提供用（TLP:AMBER+STRICT）と周知等用（TLP:CLEAR）を書き出す：',
          },
          command: `${p.tsunagi} export c2 --tier council ${p.data} > c2-council.csv && ${p.tsunagi} export c2 --tier public ${p.data} > c2-public.csv`,
        },
        {
          text: {
            en: 'Send c2-council.csv only to council members over the agreed encrypted channel, with its TLP marking in the subject; publish only c2-public.csv.',
            ja: 'c2-council.csv は協議会構成員にだけ、取り決めた暗号化経路で、件名に TLP 区分を付けて送る。公開するのは c2-public.csv だけ。',
          },
        },
        {
          text: {
            en: `When TAXII is back, check the collections: council ${p.council?.id ?? '(none)'}, public ${p.publicCollection?.id ?? '(none)'}.`,
            ja: `TAXII 復旧後にコレクションを確認する：提供用 ${p.council?.id ?? '（なし）'}、周知等用 ${p.publicCollection?.id ?? '（なし）'}。`,
          },
          command: `curl -H "Authorization: Bearer $TOKEN" ${i.hubUrl}/council/collections/${p.council?.id ?? 'ID'}/objects/`,
        },
        {
          text: {
            en: 'Every manual export is a read of restricted data: verify the audit log afterwards.',
            ja: '手作業の書き出しは制限情報の読み出しにあたるため、監査ログを検証する：',
          },
          command: `${p.tsunagi} audit verify ${p.data}`,
        },
      ],
      check: {
        en: 'audit verify prints ok; members confirm receipt.',
        ja: 'audit verify が ok を表示し、構成員から受領の連絡がある。',
      },
    },
  ];
  if (i.shareTo)
    procedures.push({
      stage: 'sharing',
      id: 'sharing-uplink',
      title: { en: `C&C list to ${i.shareTo.url}`, ja: `C&C リストの送信（${i.shareTo.url}）` },
      when: {
        en: 'The C&C sharer cannot reach the remote hub.',
        ja: 'C&C 共有処理が相手のハブに届かない。',
      },
      steps: [
        {
          text: { en: 'Write the list as a STIX bundle:', ja: 'STIX バンドルとして書き出す：' },
          command: `${p.tsunagi} export c2 --format stix --tier council ${p.data} > c2.stix.json`,
        },
        {
          text: { en: 'Post it when the hub answers again:', ja: 'ハブの復旧後に送信する：' },
          command: `curl -X POST -H "Authorization: Bearer $TSUNAGI_SHARE_TO__TOKEN" -H 'Content-Type: application/taxii+json;version=2.1' --data @c2.stix.json ${i.shareTo.url}/${i.shareTo.apiRoot}/collections/${i.shareTo.collection}/objects/`,
        },
      ],
      check: {
        en: 'The TAXII status answered counts every object as a success.',
        ja: 'TAXII のステータスで全オブジェクトが成功になっている。',
      },
    });
  return procedures;
}

function notification(p: Parts): Procedure[] {
  return [
    {
      stage: 'notification',
      id: 'notification-isp',
      title: {
        en: `Reports and letters (routing ${p.routing})`,
        ja: `報告書と通知文（ルーティング ${p.routing}）`,
      },
      when: {
        en: 'Findings must reach ISPs and subscribers and the automated routing is unavailable.',
        ja: '調査結果を ISP と利用者に届ける必要があるが、自動の振り分けが使えない。',
      },
      steps: [
        {
          text: {
            en: "Write each ISP's report from the survey findings:",
            ja: 'ISP ごとの報告書を調査結果から作る：',
          },
          command: `${p.tsunagi} survey report --isp ISP --findings findings.jsonl --routing ${sh(p.routing)} > isp.csv`,
        },
        {
          text: {
            en: 'Write the subscriber letters in Japanese and English:',
            ja: '利用者向け通知文を日本語と英語で作る：',
          },
          command: `${p.tsunagi} notify letters --lang ja --findings findings.jsonl --routing ${sh(p.routing)} --out-dir letters/`,
        },
        {
          text: {
            en: 'Send each report to the ISP contact the routing file names; record the date sent.',
            ja: 'ルーティングファイルにある ISP の連絡先へ報告書を送り、送付日を記録する。',
          },
        },
        {
          text: {
            en: 'After the next survey, track what was fixed:',
            ja: '次回調査の後、対処状況を追跡する：',
          },
          command: `${p.tsunagi} survey track --findings old.jsonl new.jsonl`,
        },
      ],
      check: {
        en: 'Every ISP with findings has a report; survey track shows the fixed count rising.',
        ja: '調査結果のある全 ISP に報告書があり、survey track で対処済みの件数が増えている。',
      },
    },
  ];
}

export function renderRunbookHtml(runbook: Runbook, generatedAt: Date): string {
  const t = labels(runbook.lang);
  const config = runbook.configuration
    .map((c) => `<tr><th><code>${esc(c.name)}</code></th><td><code>${esc(c.value)}</code></td></tr>`)
    .join('');
  const procedures = runbook.procedures
    .map((p) => {
      const steps = p.steps
        .map((s) => `<li>${esc(s.text)}${s.command ? `<pre><code>${esc(s.command)}</code></pre>` : ''}</li>`)
        .join('');
      return `<section id="${p.id}" data-stage="${p.stage}"><h2>${esc(t(`step_${p.stage}`))}: ${esc(p.title)}</h2><p><strong>${esc(t('when'))}:</strong> ${esc(p.when)}</p><h3>${esc(t('steps'))}</h3><ol>${steps}</ol><p><strong>${esc(t('check'))}:</strong> ${esc(p.check)}</p></section>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="${runbook.lang}"><head><meta charset="utf-8"><meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'">
<title>${esc(runbook.title)}</title><style>${REPORT_CSS} pre { background: #f2f5f9; padding: 6px 8px; white-space: pre-wrap; word-break: break-all; font-size: 11.5px; } .meta th { width: 16em; }</style></head>
<body><h1>${esc(runbook.title)}</h1><p>${esc(runbook.intro)}</p><p class="note">${esc(t('generated'))}: ${esc(formatDateTime(generatedAt, runbook.lang))}</p>
<h2>${esc(t('runbookConfig'))}</h2><table class="meta">${config}</table>
${procedures}
</body></html>
`;
}
