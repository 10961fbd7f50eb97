// The evidence vocabulary: every item of an indicator's evidence named and explained in both
// languages. Data only (no React), so the server's tests can check that every attribute an intel
// intake writes is in it.
import type { Lang } from './i18n.ts';

export interface Explained {
  label: Record<Lang, string>;
  help: Record<Lang, string>;
  /** How the value reads: a share in [0, 1] as a percentage, seconds, or as it is. */
  unit?: 'share' | 'seconds' | 'bytes';
}

const e = (ja: string, en: string, helpJa: string, helpEn: string, unit?: Explained['unit']): Explained => ({
  label: { ja, en },
  help: { ja: helpJa, en: helpEn },
  unit,
});

/** The C&C detector's evidence (detect's Evidence) and the attributes other sources attach. */
export const EVIDENCE: Record<string, Explained> = {
  bots: e(
    '接続した感染端末',
    'Infected hosts in contact',
    'ボットリストに載っている加入者のうち、この宛先に通信した異なる端末の数。多いほど C&C らしい。',
    'Distinct subscribers from the bot list that contacted this destination. More means more C&C-like.',
  ),
  clients: e(
    '接続した加入者（全体）',
    'Subscribers in contact (all)',
    'この宛先に通信した異なる加入者の数（感染端末とそれ以外の合計）。',
    'Distinct subscribers that contacted this destination, infected or not.',
  ),
  returningBots: e(
    '繰り返し接続した感染端末',
    'Returning infected hosts',
    '1 台ずつ追跡した感染端末のうち、何度も戻ってきた（または長い接続を保った）端末の数。一度きりの訪問は C&C の根拠になりません。',
    'Of the infected hosts tracked one by one, those that came back (or held one long connection). One-off visits are no evidence of C&C.',
  ),
  returningShare: e(
    '繰り返し接続の割合',
    'Returning share',
    '追跡した感染端末のうち繰り返し接続した割合。',
    'Share of the tracked infected hosts that came back.',
    'share',
  ),
  contactsPerBot: e(
    '端末あたりの接続回数',
    'Contacts per infected host',
    '根拠となった感染端末 1 台あたりの平均接続回数。',
    'Mean number of contacts per contributing infected host.',
  ),
  periodicBots: e(
    '周期的な感染端末',
    'Periodic infected hosts',
    '自身の接続間隔から周期性を判定できた感染端末の数。',
    'Infected hosts with enough intervals of their own to judge periodicity.',
  ),
  periodicity: e(
    '周期性',
    'Periodicity',
    '各端末の接続間隔の規則正しさ（1 − 変動係数）の平均。100% に近いほど機械的な定期接続。',
    'Mean regularity of each host’s own intervals (1 − coefficient of variation). Near 100% means machine-timed check-ins.',
    'share',
  ),
  heldSessions: e(
    '保持された接続',
    'Held sessions',
    '1 本の長い接続を保ち続けた感染端末の数（常時接続型の C&C）。',
    'Infected hosts holding one long connection (always-connected C&C).',
  ),
  suspectClients: e(
    '疑わしい加入者',
    'Suspect subscribers',
    'ボットリストにはないがスキャン行動が見られた加入者の数。排他性の検定からは除外します。',
    'Subscribers not on the bot list but seen scanning. Left out of the exclusivity test.',
  ),
  botHomes: e(
    '母集団: 感染世帯',
    'Population: infected homes',
    '母集団検定に使った、現在活動中の感染世帯の数。',
    'Infected homes active now, used in the population test.',
  ),
  cleanHomes: e(
    '母集団: 非感染世帯',
    'Population: clean homes',
    '母集団検定に使った、現在活動中の非感染世帯の数。',
    'Clean homes active now, used in the population test.',
  ),
  enrichment: e(
    '濃縮度（母集団検定）',
    'Enrichment (population test)',
    '感染世帯がこの宛先に接続する割合が、非感染世帯の何倍か。人気サービスは 1 に近く、C&C は非常に大きい。',
    'How many times more often infected homes reach this destination than clean homes. Popular services are near 1, C&C far above.',
  ),
  z: e(
    '検定統計量 z（母集団検定）',
    'Test statistic z (population test)',
    '感染世帯と非感染世帯の接続割合の差を調べる 2 標本比率の z 検定の値。大きいほど偶然では説明できない。',
    'Two-proportion z-test of infected versus clean homes reaching it. The larger, the less it can be chance.',
  ),
  familyShare: e(
    'ファミリの一致率',
    'Family agreement',
    '根拠となった感染端末のうち、ボットリストで報告されたファミリと同じものの割合。',
    'Share of the contributing infected hosts whose bot-list entry names the reported family.',
    'share',
  ),
  p2pShare: e(
    'P2P 型の割合',
    'P2P share',
    '根拠となった感染端末のうち P2P 型ボットネットの端末の割合。高いと C&C ではなくピアの可能性があります。',
    'Share of the contributing infected hosts that are P2P bots. High means it may be a peer, not a C&C server.',
    'share',
  ),
  ports: e(
    '使われたポート数',
    'Ports used',
    'ボットがこのアドレスで使った異なるポートの数（ポートを変える C&C でもアドレスは同じ）。ダークネットでは、このスキャン元が狙ったポート。',
    'Distinct ports the bots used at this address (a C&C moving ports keeps its address). For a darknet scanner: the ports it probed.',
  ),
  samplingRate: e(
    'サンプリング率',
    'Sampling rate',
    'フロー情報のパケットサンプリング率（1/N、1 はサンプリングなし）。件数はサンプリング後の値です。',
    'Packet sampling rate of the flows (1 in N; 1 means unsampled). Counts are as sampled.',
  ),
  flows: e('フロー数', 'Flows', 'この宛先への通信（フロー）の総数。', 'All flows to this destination.'),
  botFlows: e(
    '感染端末からのフロー',
    'Flows from infected hosts',
    'そのうち感染端末からのフロー数。',
    'Of those, the flows from infected hosts.',
  ),
  meanBytesPerFlow: e(
    'フローあたり平均バイト数',
    'Mean bytes per flow',
    '1 回の通信の平均の大きさ。C&C の定期通信は小さく揃いやすい。',
    'Average size of one contact. C&C check-ins tend to be small and alike.',
    'bytes',
  ),
  sdBytesPerFlow: e(
    'バイト数のばらつき',
    'Spread of bytes per flow',
    'フローの大きさの標準偏差。小さいほど同じ形の通信の繰り返し。',
    'Standard deviation of flow sizes. Small means the same message repeated.',
    'bytes',
  ),
  windowsSeen: e(
    '観測された時間窓',
    'Windows seen',
    '通信が見られた集計時間窓の数。長く続くほど持続性が高い。',
    'Counting windows in which contact was seen. More windows means more persistent.',
  ),
  gaps: e(
    '通信間隔の数',
    'Gaps measured',
    '周期性の判定に使った、連続する通信の間隔の数。',
    'Intervals between consecutive contacts used to judge periodicity.',
  ),
  meanGapS: e(
    '平均通信間隔',
    'Mean gap',
    '連続する通信の平均間隔。ボットの定期的な呼びかけ（ビーコン）の周期に当たる。',
    'Mean interval between contacts: the period of the bots’ beacon.',
    'seconds',
  ),
  gapCv: e(
    '間隔の変動係数',
    'Gap variation (CV)',
    '通信間隔の標準偏差÷平均。0 に近いほど機械的に規則正しい（周期性が高い）。',
    'Standard deviation of the gaps divided by their mean. Near 0 means machine-regular.',
  ),
  scanPort: e(
    'スキャン対象ポート',
    'Scanned port',
    'ワームが広く走査するポート（23 番など）への通信か。はいの場合、C&C ではなく感染拡大の可能性があり確度を下げる。',
    'Whether the port is one worms scan widely (such as 23). If so it may be spreading, not C&C, and confidence is lowered.',
  ),
  'sub.bots': e(
    '評価: 感染端末数',
    'Score: infected hosts',
    '接続した感染端末の数から求めた部分点（0〜100%）。',
    'Partial score from the number of infected hosts in contact (0–100%).',
    'share',
  ),
  'sub.exclusivity': e(
    '評価: 排他性（母集団検定）',
    'Score: exclusivity (population test)',
    '接続者のうち感染端末が占める割合が、加入者全体の感染率から偶然に期待される値をどれだけ上回るかの検定結果。一般の人気サービスは低くなる。',
    'A test of how far the share of infected hosts among those in contact exceeds what the population’s infection rate would give by chance. Popular services score low.',
    'share',
  ),
  'sub.persistence': e(
    '評価: 持続性',
    'Score: persistence',
    '何時間・何窓にわたって通信が続いたかから求めた部分点。',
    'Partial score from how many hours and windows the contact lasted.',
    'share',
  ),
  'sub.port': e(
    '評価: ポート',
    'Score: port',
    'スキャン対象のポートなら 0、それ以外は 1。',
    '0 for a widely scanned port, otherwise 1.',
    'share',
  ),
  'sub.periodicity': e(
    '評価: 周期性',
    'Score: periodicity',
    '通信間隔の規則正しさから求めた部分点。',
    'Partial score from how regular the contact intervals are.',
    'share',
  ),
  'sub.repeat': e(
    '評価: 繰り返し',
    'Score: repeat contact',
    '感染端末が繰り返し接続した度合いから求めた部分点。',
    'Partial score from how much the infected hosts came back.',
    'share',
  ),
  perBotContacts: e(
    '端末あたりの通信回数',
    'Contacts per infected host',
    '感染端末 1 台あたりの平均通信回数。',
    'Mean number of contacts per infected host.',
  ),
  sampling: e(
    'サンプリング率',
    'Sampling rate',
    'フロー情報のパケットサンプリング率（1/N）。件数はサンプリング後の値。',
    'Packet sampling rate of the flow data (1 in N). Counts are as sampled.',
  ),
  population: e(
    '母集団',
    'Population',
    '排他性の検定に使った加入者数。',
    'Subscribers used in the exclusivity test.',
  ),
  period_s: e('周期', 'Period', 'ビーコンの周期。', 'The beacon period.', 'seconds'),
  evidence: e(
    'モデルが挙げた理由',
    'Reasons the model gave',
    '判定の主な理由（特徴=寄与、寄与は対数オッズ）。大きいほど悪性の判定に効いています。',
    'The main reasons for the verdict (feature=contribution, in log-odds); larger ones weighed more towards malicious.',
  ),
  documentTitle: e(
    '公開文書',
    'Published document',
    'この値を挙げた注意喚起・ブログの表題。文書が名前を挙げただけでは悪性とは限りません（被害者、シンクホール、ベンダー自身のサイトも挙がります）。',
    'Title of the advisory or post that names this value. Being named is no proof of malice: documents also name victims, sinkholes and the vendor’s own sites.',
  ),
  context: e(
    '文書中の記述',
    'Sentence in the document',
    '値の前後の文。どういう文脈で挙げられたかを確かめるためのものです。',
    'The text around the value, to check in what sense the document names it.',
  ),
  documentUrl: e(
    '文書の URL',
    'Document URL',
    '文書を取得したアドレス。',
    'Where the document was fetched from.',
  ),
  document: e(
    '文書の SHA-256',
    'Document SHA-256',
    '取得した文書の内容のハッシュ。同じ文書を重複して数えないために使います。',
    'Hash of the fetched content; the same document is never counted twice.',
  ),
  registrableDomain: e(
    '登録ドメイン',
    'Registrable domain',
    '公開接尾辞リストで求めた、登録者が取得した単位のドメイン。',
    'The domain as registered, found with the public suffix list.',
  ),
  rule: e('判定規則', 'Rule', '登録に使った判定規則の名前。', 'The rule that recorded it.'),
  score: e('スコア', 'Score', '情報源が付けた評価値。', 'The score the source gave.'),
  country: e(
    '国・地域',
    'Country',
    'アドレスの国・地域（ISO 3166 コード）。',
    'Country of the address (ISO 3166 code).',
  ),
  fingerprint: e(
    'フィンガープリント',
    'Fingerprint',
    'スキャンパケットの特徴から推定したツールやマルウェア。',
    'Tool or malware inferred from the scan packets.',
  ),
  product: e('製品', 'Product', '調査で識別した機器の製品名。', 'The device product the survey identified.'),
  vendor: e('メーカー', 'Vendor', '機器のメーカー。', 'The device vendor.'),
  version: e(
    'ファームウェア',
    'Firmware',
    '識別したファームウェアの版。',
    'The firmware version identified.',
  ),
  service: e('サービス', 'Service', '外部に公開されているサービス。', 'The service exposed to the Internet.'),
  check: e('確認した項目', 'Check', '脆弱性の確認方法。', 'How the weakness was checked.'),
  status: e('状態', 'Status', '調査で判定した状態。', 'The state the survey found.'),
  cve: e('CVE', 'CVE', '該当する既知の脆弱性。', 'The known vulnerability that applies.'),
  credentialRule: e(
    '弱いパスワードの規則',
    'Weak credential rule',
    'ログインできた弱いパスワードの種類（パスワード自体は保存しません）。',
    'The kind of weak password that worked (the password itself is never kept).',
  ),
  notification: e(
    '通知状況',
    'Notification',
    '利用者への注意喚起の状況。',
    'Where the notice to the user stands.',
  ),
};
