/** Subscriber letters in Japanese and English, one per address, with remediation steps for the device type. */
import type { Finding } from './types.ts';
import type { Isp } from './config.ts';
import type { Routing } from './routing.ts';

export type Lang = 'ja' | 'en';
export type DeviceKind = 'router' | 'camera' | 'nas' | 'printer' | 'other';

/** Folds recog's many hw.device values into the kinds letters know how to advise on. */
export function deviceKind(deviceType: string | undefined): DeviceKind {
  const t = (deviceType ?? '').toLowerCase();
  if (/router|gateway|wap|access point|modem|firewall|switch|ont|cpe/.test(t)) return 'router';
  if (/camera|webcam|web cam|dvr|nvr|video/.test(t)) return 'camera';
  if (/nas|storage|file server/.test(t)) return 'nas';
  if (/printer|multifunction|mfp/.test(t)) return 'printer';
  return 'other';
}

const KIND_NAME: Record<Lang, Record<DeviceKind, string>> = {
  ja: {
    router: 'ルーター等のネットワーク機器',
    camera: 'ネットワークカメラ・録画機（DVR/NVR）',
    nas: 'ネットワークストレージ（NAS）',
    printer: 'ネットワークプリンター・複合機',
    other: 'インターネットに接続された機器',
  },
  en: {
    router: 'router or other network equipment',
    camera: 'network camera or video recorder (DVR/NVR)',
    nas: 'network storage (NAS)',
    printer: 'network printer or multifunction device',
    other: 'Internet-connected device',
  },
};

const STEPS: Record<Lang, Record<DeviceKind, string[]>> = {
  ja: {
    router: [
      '機器の管理画面にログインし、管理者パスワードを初期値から、推測されにくい長いもの（12文字以上、英大小文字・数字・記号を含む）に変更してください。',
      'インターネット側（WAN側）からの遠隔管理（telnet、SSH、Web管理画面）を無効にしてください。',
      'メーカーのサポートページで最新のファームウェアを確認し、更新してください。',
      'パスワードが分からない場合は、取扱説明書に従って初期化（工場出荷時設定へのリセット）を行い、その直後にパスワードを設定してください。',
    ],
    camera: [
      'カメラ・録画機の管理画面で、全ての利用者アカウントのパスワードを初期値から長く推測されにくいものに変更してください。',
      'ルーターのポート開放（ポートフォワード）設定を見直し、外部から直接接続できないようにしてください。外出先から見る場合はメーカーのアプリやVPNをご利用ください。',
      'メーカーのサポートページで最新のファームウェアを確認し、更新してください。',
      'サポートが終了した機種は、更新の提供される機種への買い替えをご検討ください。',
    ],
    nas: [
      'NASの管理画面で管理者パスワードを初期値から長く推測されにくいものに変更してください。',
      'インターネットからの直接接続（ポート開放、telnet/SSH）を無効にしてください。',
      'ファームウェアを最新のものに更新し、重要なデータは別の媒体にもバックアップしてください。',
    ],
    printer: [
      'プリンターの管理画面で管理者パスワードを設定・変更してください。',
      'インターネットから直接接続できないよう、ルーターの設定を見直してください。',
      'メーカーのサポートページで最新のファームウェアを確認し、更新してください。',
    ],
    other: [
      '機器のパスワードを初期値から長く推測されにくいものに変更してください。',
      '不要な遠隔操作機能（telnet等）を無効にし、インターネットから直接接続できないようにしてください。',
      'メーカーのサポートページで最新のファームウェアを確認し、更新してください。',
    ],
  },
  en: {
    router: [
      'Log in to the device and change the administrator password from the factory default to a long one that is hard to guess (12 characters or more, with upper and lower case letters, digits and symbols).',
      'Turn off remote administration from the Internet (WAN) side: telnet, SSH and the web management page.',
      "Check the maker's support page for the latest firmware and install it.",
      'If you do not know the password, reset the device to factory settings as its manual describes, and set a new password straight away.',
    ],
    camera: [
      'Change the password of every user account on the camera or recorder from the default to a long one that is hard to guess.',
      "Review the port forwarding on your router so the device cannot be reached directly from the Internet; to watch from outside, use the maker's app or a VPN.",
      "Check the maker's support page for the latest firmware and install it.",
      'If the model no longer receives updates, consider replacing it with one that does.',
    ],
    nas: [
      'Change the administrator password of the NAS from the default to a long one that is hard to guess.',
      'Turn off direct access from the Internet (port forwarding, telnet, SSH).',
      'Update the firmware, and keep a backup of important data on another medium.',
    ],
    printer: [
      "Set or change the administrator password in the printer's management page.",
      'Review your router settings so the printer cannot be reached directly from the Internet.',
      "Check the maker's support page for the latest firmware and install it.",
    ],
    other: [
      'Change the password of the device from the default to a long one that is hard to guess.',
      'Turn off remote control features you do not need (such as telnet) and make sure the device cannot be reached directly from the Internet.',
      "Check the maker's support page for the latest firmware and install it.",
    ],
  },
};

const SERVICE_NAME: Record<string, string> = {
  telnet: 'telnet',
  ssh: 'SSH',
  http: 'Web (HTTP)',
  https: 'Web (HTTPS)',
};

export interface Letter {
  ip: string;
  ispId: string;
  lang: Lang;
  kind: DeviceKind;
  subject: string;
  body: string;
}

function problemLines(f: Finding, lang: Lang): string[] {
  const where = `${SERVICE_NAME[f.service] ?? f.service} (TCP ${f.port})`;
  const lines: string[] = [];
  if (f.weakCredential) {
    lines.push(
      lang === 'ja'
        ? `・${where}：初期設定または推測されやすいパスワードでログインできる状態でした（ログインが受け付けられたことのみを確認し、直ちに切断しています）。`
        : `- ${where}: the device accepted a default or easily guessed password. (We only confirmed that the login was accepted and disconnected at once.)`,
    );
  }
  if (f.cves.length > 0) {
    const ids = f.cves.map((c) => `${c.cve} (${c.severity})`).join(', ');
    lines.push(
      lang === 'ja'
        ? `・ファームウェア ${f.firmware ?? '不明'} には既知の脆弱性があります：${ids}`
        : `- Firmware ${f.firmware ?? 'unknown'} has known vulnerabilities: ${ids}`,
    );
  }
  return lines;
}

/** One letter per subscriber address holding at least one finding to act on. */
export function buildLetters(
  findings: readonly Finding[],
  routing: Routing,
  lang: Lang,
  sender: { name: string; contact: string },
): Letter[] {
  const byIp = new Map<string, Finding[]>();
  for (const f of findings) {
    if (f.status === 'exposed') continue;
    const list = byIp.get(f.ip) ?? [];
    list.push(f);
    byIp.set(f.ip, list);
  }
  const letters: Letter[] = [];
  for (const [ip, list] of [...byIp].sort((a, b) => a[0].localeCompare(b[0], 'en', { numeric: true }))) {
    const route = routing.route(ip);
    if (!route) continue;
    const first = list.find((f) => f.deviceType) ?? list[0]!;
    const kind = deviceKind(first.deviceType);
    const device = [first.vendor, first.model].filter(Boolean).join(' ');
    const observed = list.map((f) => f.time).sort()[0]!;
    letters.push({
      ip,
      ispId: route.isp.id,
      lang,
      kind,
      ...render(lang, {
        ip,
        isp: route.isp,
        kind,
        device,
        observed,
        list,
        sender,
        maker: routing.maker(first.vendor),
      }),
    });
  }
  return letters;
}

interface LetterInput {
  ip: string;
  isp: Isp;
  kind: DeviceKind;
  device: string;
  observed: string;
  list: Finding[];
  sender: { name: string; contact: string };
  maker?: { name: string; contact: string } | undefined;
}

function render(lang: Lang, x: LetterInput): { subject: string; body: string } {
  const steps = STEPS[lang][x.kind].map((s, i) => `${i + 1}. ${s}`);
  const problems = x.list.flatMap((f) => problemLines(f, lang));
  if (lang === 'ja') {
    const ispName = x.isp.nameJa ?? x.isp.name;
    const lines = [
      'お客様各位',
      '',
      `${ispName}をご利用いただきありがとうございます。`,
      `お客様の回線（IPアドレス ${x.ip}）に接続された${KIND_NAME.ja[x.kind]}${x.device ? `（${x.device} と推定）` : ''}について、サイバー攻撃に悪用されるおそれのある状態であることが、${x.observed.slice(0, 10)} の調査で確認されました。`,
      '',
      '【確認された状態】',
      ...problems,
      '',
      '【お願いしたい対策】',
      ...steps,
      '',
      ...(x.isp.rentsDevices
        ? [
            '当社がレンタルしている機器の場合は、当社で設定変更を行うことができます。下記までご連絡ください。',
            '',
          ]
        : []),
      ...(x.maker
        ? [`機器の操作方法は、メーカー（${x.maker.name}）のサポート窓口にもお問い合わせいただけます。`, '']
        : []),
      'この調査は、法令に基づき認められた範囲で、機器の設定変更や情報の取得を一切行わずに実施しています。',
      '',
      `お問い合わせ：${x.isp.name}（${x.isp.contact}）`,
      `調査実施：${x.sender.name}${x.sender.contact ? `（${x.sender.contact}）` : ''}`,
    ];
    return {
      subject: `【重要】ご利用の機器のセキュリティ対策のお願い（${x.ip}）`,
      body: `${lines.join('\n')}\n`,
    };
  }
  const lines = [
    'Dear customer,',
    '',
    `Thank you for using ${x.isp.name}.`,
    `A survey on ${x.observed.slice(0, 10)} found that a ${KIND_NAME.en[x.kind]}${x.device ? ` (probably ${x.device})` : ''} on your line (IP address ${x.ip}) is in a state that attackers could abuse.`,
    '',
    'What we found:',
    ...problems,
    '',
    'What we ask you to do:',
    ...steps,
    '',
    ...(x.isp.rentsDevices
      ? ['If this device is rented from us, we can change its settings for you: please contact us below.', '']
      : []),
    ...(x.maker ? [`The maker (${x.maker.name}) can also help you with the device's settings.`, ''] : []),
    'This survey was carried out within the scope the law allows; it changed no setting on your device and read no data from it.',
    '',
    `Questions: ${x.isp.name} (${x.isp.contact})`,
    `Survey by: ${x.sender.name}${x.sender.contact ? ` (${x.sender.contact})` : ''}`,
  ];
  return { subject: `Important: please secure your device (${x.ip})`, body: `${lines.join('\n')}\n` };
}
