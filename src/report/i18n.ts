/** Every label of a report and a runbook, in Japanese and English, and dates in each language's style. */
import type { Lang } from './config.ts';

const en = {
  title_daily: 'tsunagi daily threat report',
  title_weekly: 'tsunagi weekly threat report',
  period: 'Period',
  tier: 'Prepared for',
  tier_full: 'full analysis (総合整理分析情報)',
  tier_council: 'council members (提供用総合整理分析情報)',
  tier_public: 'public notice (周知等用総合整理分析情報)',
  marking: 'Marking',
  generated: 'Generated',
  tierNote:
    'Every figure counts only what the hub’s release rule gives a reader of this tier; the rest is not in this report.',
  keyFigures: 'Key figures',
  sec_c2: 'New C&C servers and families',
  sec_hosts: 'Infected hosts per ISP',
  sec_darknet: 'Darknet port surges',
  sec_survey: 'Survey findings and remediation',
  sec_phishing: 'Phishing brands',
  appendix: 'Appendix: the query behind every figure',
  noData: 'No data for this period.',
  noFigures: 'No figures: nothing was released to this tier for the period, so no number is reported.',
  notReleased: 'Nothing of this kind is released to this tier.',
  activeC2: 'Active C&C servers',
  newC2: 'New C&C servers in the period',
  c2Families: 'Families of the new C&C servers',
  server: 'Server',
  family: 'Family',
  confidence: 'Confidence',
  firstSeen: 'First seen',
  isp: 'ISP / AS',
  active: 'Active',
  newInPeriod: 'New in period',
  previousPeriod: 'Previous period',
  change: 'Change',
  activeBots: 'Active infected hosts',
  newBots: 'New infected hosts in the period',
  trend: 'New infected hosts per day (top ISPs)',
  darknetHosts: 'Scanners seen by the darknet, new in the period',
  newScannersChart: 'New darknet scanners',
  port: 'Port',
  surge: 'Surge',
  surgeYes: 'surge',
  portsNote: 'Ports from the scanners’ observed destination ports (attribute ports).',
  noPorts: 'The darknet recorded no destination ports for these scanners.',
  devices: 'Active vulnerable devices',
  newDevices: 'New vulnerable devices in the period',
  product: 'Product',
  cve: 'CVE',
  status: 'Finding',
  remediation: 'Remediation of devices found before the period',
  stillSeen: 'still vulnerable (seen again in the period)',
  notSeenAgain: 'not seen again (fixed or gone)',
  withdrawn: 'withdrawn (confirmed fixed or false positive)',
  remediationNote:
    'Remediation is read from intel: a device seen again by a re-survey in the period is still vulnerable; notify keeps no tracking of its own in the store.',
  byProduct: 'Active vulnerable devices by product',
  newBotsOnDay: 'New infected hosts on the day',
  chartLegend: 'total {total}, last day {last}',
  what: 'What it counts',
  queryText: 'Query and the release decision its rows went through',
  value: 'Value',
  derivation: 'Derivation from the query’s released rows',
  perIsp: 'Active and new infected hosts per ISP',
  perPort: 'New scanners per destination port',
  perBrand: 'Phishing URLs and domains per brand',
  byCve: 'Active vulnerable devices by CVE',
  byStatus: 'Active vulnerable devices by finding',
  brand: 'Brand',
  phishingIndicators: 'Phishing URLs and domains',
  count: 'Count',
  unknown: 'unknown',
  noCve: 'no CVE (weak credentials or exposure)',
  'finding_weak-credential': 'weak credentials (login with a default password)',
  'finding_vulnerable-firmware': 'vulnerable firmware (known CVE)',
  finding_exposed: 'exposed service',
  unknownAs: 'AS unknown',
  figure: 'Figure',
  query: 'Query',
  truncated: 'Truncated: more indicators than the report reads; figures are lower bounds.',
  aiBadge: 'AI',
  aiLegend:
    'Sentences marked AI were written by a language model from the figures listed after them; check them against those figures.',
  aiSources: 'sources',
  summaryOmitted: 'AI summary omitted',
  hour: 'Hour (UTC)',
  day: 'Day',
  other: 'other',
  // Runbooks
  runbookTitle: 'tsunagi runbook: doing each automated step by hand',
  runbookIntro:
    'Each procedure below is what a person does when the automated step is unavailable. It is generated from the configuration in use; regenerate it after any change.',
  q6Ids: 'every bot released by Q2',
  q6Release: 'only indicators released by Q2',
  q7Release: 'names the ISP of hosts already released by Q2',
  runbookConfig: 'Configuration in use',
  configFile: 'configuration file',
  configNoFile: '(none: defaults, environment and flags)',
  configNone: '(none)',
  configOff: '(off)',
  when: 'When',
  steps: 'Steps',
  check: 'Check',
  step_intake: 'Intake',
  step_detection: 'Detection',
  step_sharing: 'Sharing',
  step_notification: 'Notification',
} as const;

export type LabelKey = keyof typeof en;

const ja: Record<LabelKey, string> = {
  title_daily: 'tsunagi 日次脅威レポート',
  title_weekly: 'tsunagi 週次脅威レポート',
  period: '対象期間',
  tier: '提供先',
  tier_full: '総合整理分析情報',
  tier_council: '提供用総合整理分析情報（協議会構成員）',
  tier_public: '周知等用総合整理分析情報',
  marking: '取扱区分',
  generated: '作成日時',
  tierNote:
    'すべての数値は、ハブの提供判定がこの区分の読み手に渡すものだけを数えています。それ以外は本レポートに含まれません。',
  keyFigures: '主要な数値',
  sec_c2: '新たな C&C サーバとファミリ',
  sec_hosts: 'ISP 別の感染ホスト',
  sec_darknet: 'ダークネットのポート別急増',
  sec_survey: '調査で見つかった脆弱機器と対処状況',
  sec_phishing: 'フィッシングの標的ブランド',
  appendix: '付録：各数値の算出クエリ',
  noData: 'この期間のデータはありません。',
  noFigures: '図表はありません：この期間にこの区分へ提供可能なものがなく、報告する数値がありません。',
  notReleased: 'この区分には、この種類の情報は提供されません。',
  activeC2: '有効な C&C サーバ',
  newC2: '期間中に新たに見つかった C&C サーバ',
  c2Families: '新たな C&C サーバのファミリ',
  server: 'サーバ',
  family: 'ファミリ',
  confidence: '確度',
  firstSeen: '初回観測',
  isp: 'ISP / AS',
  active: '有効',
  newInPeriod: '期間中の新規',
  previousPeriod: '前期間',
  change: '増減',
  activeBots: '有効な感染ホスト',
  newBots: '期間中に新たに見つかった感染ホスト',
  trend: '日別の新規感染ホスト（上位 ISP）',
  darknetHosts: 'ダークネットで期間中に新たに観測したスキャナ',
  newScannersChart: 'ダークネットの新規スキャナ',
  port: 'ポート',
  surge: '急増',
  surgeYes: '急増',
  portsNote: 'ポートはスキャナが送った宛先ポート（属性 ports）によります。',
  noPorts: 'これらのスキャナについて、ダークネットは宛先ポートを記録していません。',
  devices: '有効な脆弱機器',
  newDevices: '期間中に新たに見つかった脆弱機器',
  product: '製品',
  cve: 'CVE',
  status: '検出内容',
  remediation: '期間前に見つかった機器の対処状況',
  stillSeen: '未対処（期間中の再調査で再び観測）',
  notSeenAgain: '再観測なし（対処済みまたは停止）',
  withdrawn: '取り下げ（対処確認または誤検知）',
  remediationNote:
    '対処状況は intel から読み取ります。期間中の再調査で再び観測された機器は未対処とみなします。notify はストアに独自の追跡記録を持ちません。',
  byProduct: '製品別の有効な脆弱機器',
  newBotsOnDay: 'その日の新規感染ホスト',
  chartLegend: '合計 {total}、最終日 {last}',
  what: '内容',
  queryText: 'クエリと、その行が通った提供判定',
  value: '値',
  derivation: 'クエリが返した提供可能な行からの算出方法',
  perIsp: 'ISP 別の有効・新規の感染ホスト',
  perPort: '宛先ポート別の新規スキャナ',
  perBrand: 'ブランド別のフィッシング URL・ドメイン',
  byCve: 'CVE 別の有効な脆弱機器',
  byStatus: '検出内容別の有効な脆弱機器',
  brand: 'ブランド',
  phishingIndicators: 'フィッシング URL・ドメイン',
  count: '件数',
  unknown: '不明',
  noCve: 'CVE なし（弱いパスワード・露出）',
  'finding_weak-credential': '弱いパスワード（初期パスワードでログイン可）',
  'finding_vulnerable-firmware': '脆弱なファームウェア（既知の CVE）',
  finding_exposed: 'サービスの露出',
  unknownAs: 'AS 不明',
  figure: '図表番号',
  query: 'クエリ',
  truncated: '打ち切り：レポートが読む上限を超える指標があります。数値は下限です。',
  aiBadge: 'AI',
  aiLegend:
    'AI の印のある文は、後ろに示した図表の数値から言語モデルが書いたものです。必ず元の数値と照らし合わせてください。',
  aiSources: '出典',
  summaryOmitted: 'AI 要約を省略しました',
  hour: '時刻（UTC）',
  day: '日付',
  other: 'その他',
  runbookTitle: 'tsunagi 手順書：自動処理を手作業で行う',
  runbookIntro:
    '以下は、自動処理が使えないときに担当者が手作業で行う手順です。現在の設定から生成しています。設定を変えたら作り直してください。',
  q6Ids: 'Q2 で提供可能とされたすべてのボット',
  q6Release: 'Q2 で提供可能とされた指標だけ',
  q7Release: 'Q2 で提供可能とされたホストの ISP 名を付けるだけ',
  runbookConfig: '使用中の設定',
  configFile: '設定ファイル',
  configNoFile: '（なし：既定値、環境変数、フラグ）',
  configNone: '（なし）',
  configOff: '（無効）',
  when: '実施する場面',
  steps: '手順',
  check: '確認',
  step_intake: '収集',
  step_detection: '検知',
  step_sharing: '共有',
  step_notification: '通知',
};

export const LABELS: Readonly<Record<Lang, Record<LabelKey, string>>> = { en, ja };

export function labels(lang: Lang): (key: LabelKey) => string {
  const table = LABELS[lang];
  return (key) => table[key];
}

const EN_MONTHS = [
  'January',
  'February',
  'March',
  'April',
  'May',
  'June',
  'July',
  'August',
  'September',
  'October',
  'November',
  'December',
];

/** A UTC calendar day: 2026年12月5日 in Japanese, 5 December 2026 in English. */
export function formatDate(date: Date, lang: Lang): string {
  const y = date.getUTCFullYear();
  const m = date.getUTCMonth();
  const d = date.getUTCDate();
  return lang === 'ja' ? `${y}年${m + 1}月${d}日` : `${d} ${EN_MONTHS[m]} ${y}`;
}

/** A UTC time of day after the date: 2026年12月5日 14:03 UTC. */
export function formatDateTime(date: Date, lang: Lang): string {
  const hh = String(date.getUTCHours()).padStart(2, '0');
  const mm = String(date.getUTCMinutes()).padStart(2, '0');
  return `${formatDate(date, lang)} ${hh}:${mm} UTC`;
}

/** A short day label for chart axes: 12/5 in Japanese, 5 Dec in English. */
export function formatShortDay(date: Date, lang: Lang): string {
  return lang === 'ja'
    ? `${date.getUTCMonth() + 1}/${date.getUTCDate()}`
    : `${date.getUTCDate()} ${EN_MONTHS[date.getUTCMonth()]!.slice(0, 3)}`;
}

export function formatNumber(n: number, lang: Lang): string {
  return n.toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-GB');
}
