// One way to write a time everywhere in the console: `2026-12-05 18:03 JST`, in the zone the
// analyst chose (Asia/Tokyo unless localStorage `tsunagi.tz` names another IANA zone).
const ZONE_LABEL: Record<string, string> = { 'Asia/Tokyo': 'JST', UTC: 'UTC', 'Etc/UTC': 'UTC' };

export function timeZone(): string {
  try {
    const saved = localStorage.getItem('tsunagi.tz');
    if (saved) {
      new Intl.DateTimeFormat('en', { timeZone: saved });
      return saved;
    }
  } catch {
    // storage disabled or an unknown zone: the default
  }
  return 'Asia/Tokyo';
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(zone: string): Intl.DateTimeFormat {
  let f = formatters.get(zone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-CA', {
      timeZone: zone,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hourCycle: 'h23',
      timeZoneName: 'short',
    });
    formatters.set(zone, f);
  }
  return f;
}

/** `2026-12-05 18:03 JST`; an empty or unreadable time is an em dash. */
export function formatTime(iso: string | null | undefined): string {
  if (!iso) return '—';
  const date = new Date(iso);
  if (Number.isNaN(date.getTime())) return '—';
  const zone = timeZone();
  const part: Record<string, string> = {};
  for (const p of formatter(zone).formatToParts(date)) part[p.type] = p.value;
  const label = ZONE_LABEL[zone] ?? part.timeZoneName ?? zone;
  return `${part.year}-${part.month}-${part.day} ${part.hour}:${part.minute} ${label}`;
}

/** An hour bucket `2026-12-05T09` (UTC, as the API counts) as the local hour: `18時` / `18:00`. */
export function formatHour(bucket: string, lang: 'ja' | 'en'): string {
  const time = formatTime(`${bucket}:00:00Z`);
  const hour = time.slice(11, 13);
  return lang === 'ja' ? `${Number(hour)}時` : `${hour}:00`;
}

/** An hour bucket with its day: `12-05 18時` / `12-05 18:00`. */
export function formatDayHour(bucket: string, lang: 'ja' | 'en'): string {
  const time = formatTime(`${bucket}:00:00Z`);
  return `${time.slice(5, 10)} ${formatHour(bucket, lang)}`;
}

export function formatNumber(n: number, lang: 'ja' | 'en'): string {
  return n.toLocaleString(lang === 'ja' ? 'ja-JP' : 'en-US', { maximumFractionDigits: 3 });
}

const regionNames = new Map<string, Intl.DisplayNames>();
/** `JP` as 日本 / Japan; a code the browser does not know stays as it is. */
export function countryName(code: string, lang: 'ja' | 'en'): string {
  let names = regionNames.get(lang);
  if (!names) {
    names = new Intl.DisplayNames([lang], { type: 'region' });
    regionNames.set(lang, names);
  }
  try {
    return names.of(code.toUpperCase()) ?? code;
  } catch {
    return code;
  }
}
