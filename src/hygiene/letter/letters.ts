/**
 * A letter per organisation (ja or en): its score, then for every domain what falls short and
 * how to fix it, in the order a mail or DNS administrator would work through it.
 */
import type { DomainHygiene } from '../check.ts';

export type Lang = 'ja' | 'en';

export interface HygieneLetter {
  organisation: string;
  lang: Lang;
  subject: string;
  body: string;
  /** How many fixes the letter asks for. */
  fixes: number;
}

type Row = DomainHygiene & { organisation?: string; score: number };
export type Advice = Record<Lang, string>;

/** What to fix for a column in a given state; undefined when the state needs nothing. */
function advice(row: Row): Advice[] {
  const out: Advice[] = [];
  const add = (ja: string, en: string) => out.push({ ja, en });
  if (row.dnssec === 'bogus')
    add(
      'DNSSEC の署名が検証できません（bogus）。検証する resolver からは名前解決できません。署名の再生成と、親ゾーンの DS が現在の鍵と一致しているかを至急確認してください。',
      'DNSSEC signatures do not validate (bogus): validating resolvers cannot resolve the domain. Re-sign the zone and check that the DS at the parent matches the current key, urgently.',
    );
  else if (row.dnssec === 'insecure')
    add(
      'DNSSEC が有効ではありません。DNS 事業者でゾーン署名を有効にし（推奨アルゴリズム 13: ECDSA P-256）、レジストラ経由で DS レコードを登録してください。',
      'DNSSEC is not enabled. Turn on zone signing at your DNS operator (algorithm 13, ECDSA P-256, is recommended) and register the DS record through your registrar.',
    );
  const spf: Partial<Record<DomainHygiene['spf'], Advice>> = {
    missing: {
      ja: 'SPF レコードがありません。送信するサーバを列挙し "v=spf1 ... -all" を公開してください（メールを送らないドメインは "v=spf1 -all"）。',
      en: 'There is no SPF record. List your sending servers and publish "v=spf1 ... -all" ("v=spf1 -all" for a domain that sends no mail).',
    },
    invalid: {
      ja: 'SPF レコードが無効です（構文誤り、複数レコード、または DNS 参照 10 回の上限超過）。include を整理し 1 つのレコードにまとめてください。',
      en: 'The SPF record is invalid (a syntax error, several records, or more than 10 DNS lookups). Flatten includes into one valid record.',
    },
    permissive: {
      ja: 'SPF が "+all" で誰にでも送信を許しています。"-all" に変更してください。',
      en: 'SPF ends in "+all", allowing anyone to send as you. Change it to "-all".',
    },
    neutral: {
      ja: 'SPF が "?all"（または all なし）で、なりすましを拒否しません。"-all" にしてください。',
      en: 'SPF ends in "?all" (or has no "all"), so spoofed mail is not refused. End it with "-all".',
    },
    softfail: {
      ja: 'SPF が "~all" です。送信元をすべて列挙できたら "-all" に強化してください。',
      en: 'SPF ends in "~all". Once every sender is listed, tighten it to "-all".',
    },
  };
  if (spf[row.spf]) out.push(spf[row.spf]!);
  const dmarc: Partial<Record<DomainHygiene['dmarc_policy'], Advice>> = {
    missing: {
      ja: 'DMARC レコードがありません。_dmarc に "v=DMARC1; p=none; rua=mailto:..." を公開して集計レポートを受け取り、段階的に p=reject へ進めてください。',
      en: 'There is no DMARC record. Publish "v=DMARC1; p=none; rua=mailto:..." at _dmarc, read the aggregate reports, and move step by step to p=reject.',
    },
    invalid: {
      ja: 'DMARC レコードが無効です（p= の値、pct、rua の形式、または複数レコード）。1 つの正しいレコードにしてください。',
      en: 'The DMARC record is invalid (the p= value, pct, the rua format, or several records). Publish one valid record.',
    },
    none: {
      ja: 'DMARC が p=none（監視のみ）です。レポートで正規の送信元を確認したら p=quarantine、次に p=reject にしてください。',
      en: 'DMARC is p=none (monitoring only). After the reports confirm your legitimate senders, move to p=quarantine, then p=reject.',
    },
    quarantine: {
      ja: 'DMARC が p=quarantine です。問題がなければ p=reject に強化してください。',
      en: 'DMARC is p=quarantine. When nothing legitimate fails, tighten it to p=reject.',
    },
  };
  if (dmarc[row.dmarc_policy]) out.push(dmarc[row.dmarc_policy]!);
  if (row.dkim === 'missing' || row.dkim === 'invalid' || row.dkim === 'revoked')
    add(
      `確認したセレクタに有効な DKIM 鍵がありません（${row.dkim}）。送信サービスで DKIM 署名を有効にし、公開鍵（RSA 2048 ビット以上または Ed25519）を公開してください。`,
      `No usable DKIM key at the selectors checked (${row.dkim}). Turn on DKIM signing at your mail service and publish its public key (RSA of 2048 bits or more, or Ed25519).`,
    );
  if (
    row.mta_sts === 'missing' ||
    row.mta_sts === 'invalid' ||
    row.mta_sts === 'none' ||
    row.mta_sts === 'testing'
  )
    add(
      `MTA-STS が ${row.mta_sts} です。_mta-sts の TXT と https://mta-sts.${row.domain}/.well-known/mta-sts.txt のポリシー（mode: enforce）を公開してください。`,
      `MTA-STS is ${row.mta_sts}. Publish the _mta-sts TXT record and a policy at https://mta-sts.${row.domain}/.well-known/mta-sts.txt with mode: enforce.`,
    );
  if (row.tls_rpt !== 'ok')
    add(
      '_smtp._tls に TLS-RPT（"v=TLSRPTv1; rua=mailto:..."）を公開し、TLS 配送失敗のレポートを受け取ってください。',
      'Publish TLS-RPT at _smtp._tls ("v=TLSRPTv1; rua=mailto:...") to receive reports of failed TLS deliveries.',
    );
  if (row.dane === 'no' || row.dane === 'unsigned' || row.dane === 'partial' || row.dane === 'bogus')
    add(
      `MX の DANE が ${row.dane} です。DNSSEC で署名したゾーンに、各 MX の _25._tcp TLSA（3 1 1 推奨）を公開してください。`,
      `DANE for the MX hosts is ${row.dane}. Publish a _25._tcp TLSA record (3 1 1 recommended) for every MX host, in a DNSSEC-signed zone.`,
    );
  if (row.ipv6 !== 'web+mail')
    add(
      'Web サーバまたはメールサーバ（MX）に AAAA レコードがありません。IPv6 で到達できるようにしてください。',
      'The web server or a mail server (MX) has no AAAA record. Make them reachable over IPv6.',
    );
  if (row.https === 'none' || row.https === 'invalid-cert')
    add(
      row.https === 'none'
        ? 'HTTPS で接続できません。HTTPS を提供してください。'
        : 'HTTPS の証明書が検証できません（期限、名前、または中間証明書）。正しい証明書にしてください。',
      row.https === 'none'
        ? 'The site does not answer over HTTPS. Serve it over HTTPS.'
        : 'The HTTPS certificate does not validate (expiry, name, or chain). Install a valid certificate.',
    );
  else if (row.hsts === 'missing' || row.hsts === 'short')
    add(
      'HSTS ヘッダ（Strict-Transport-Security: max-age=31536000 以上）を HTTPS 応答に付けてください。',
      'Send an HSTS header (Strict-Transport-Security with max-age of at least 31536000) on HTTPS responses.',
    );
  return out;
}

export function hygieneLetters(rows: readonly Row[], lang: Lang, sender: string): HygieneLetter[] {
  const byOrganisation = new Map<string, Row[]>();
  for (const row of rows) {
    const name = row.organisation ?? row.domain;
    byOrganisation.set(name, [...(byOrganisation.get(name) ?? []), row]);
  }
  return [...byOrganisation].map(([organisation, domains]) => {
    const score = Math.round((10 * domains.reduce((s, d) => s + d.score, 0)) / domains.length) / 10;
    let fixes = 0;
    const sections = domains.map((row) => {
      const items = advice(row);
      fixes += items.length;
      const heading =
        lang === 'ja' ? `■ ${row.domain}（スコア ${row.score}）` : `* ${row.domain} (score ${row.score})`;
      if (items.length === 0)
        return `${heading}\n  ${lang === 'ja' ? '対応が必要な項目はありません。' : 'Nothing to fix.'}`;
      return `${heading}\n${items.map((a, i) => `  ${i + 1}. ${a[lang]}`).join('\n')}`;
    });
    const subject =
      lang === 'ja'
        ? `【インターネット衛生調査】${organisation} 様のドメインの設定状況（スコア ${score}/100）`
        : `Internet hygiene survey: the domains of ${organisation} (score ${score}/100)`;
    const opening =
      lang === 'ja'
        ? `${organisation} ご担当者様\n\nDNSSEC、送信ドメイン認証（SPF/DKIM/DMARC）、MTA-STS、DANE、IPv6、HTTPS/HSTS の設定状況を調査しました。以下の項目の対応をお願いいたします。`
        : `To the administrators of ${organisation},\n\nWe surveyed DNSSEC, mail authentication (SPF/DKIM/DMARC), MTA-STS, DANE, IPv6 and HTTPS/HSTS on your domains. Please see to the items below.`;
    const closing = lang === 'ja' ? `\n\n${sender}` : `\n\nRegards,\n${sender}`;
    return { organisation, lang, subject, body: `${opening}\n\n${sections.join('\n\n')}${closing}\n`, fixes };
  });
}

/** What a domain should fix, in both languages, in the order a letter lists it (the console's drill-down). */
export function whatToFix(row: Omit<DomainHygiene, 'reasons' | 'dkimKeys'>): Advice[] {
  return advice({ ...row, reasons: {} as DomainHygiene['reasons'], dkimKeys: [], score: 0 });
}
