/**
 * Times in the brigade's IANA zone (the API's `timezone`, Asia/Shanghai until one is known):
 * display strings and "today" as YYYY-MM-DD, with a fixed +08:00 fallback where the JS engine
 * has no time-zone data.
 */
export const DEFAULT_ZONE = 'Asia/Shanghai';

interface Parts {
  y: string;
  m: string;
  d: string;
  hh: string;
  mm: string;
}

const pad = (n: number) => String(n).padStart(2, '0');

function parts(date: Date, tz: string): Parts {
  try {
    const f = new Intl.DateTimeFormat('en-CA', {
      timeZone: tz || DEFAULT_ZONE,
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
      hour12: false,
    });
    const p: Record<string, string> = {};
    for (const x of f.formatToParts(date)) p[x.type] = x.value;
    return { y: p.year, m: p.month, d: p.day, hh: p.hour === '24' ? '00' : p.hour, mm: p.minute };
  } catch {
    const s = new Date(date.getTime() + 8 * 3600000);
    return { y: String(s.getUTCFullYear()), m: pad(s.getUTCMonth() + 1), d: pad(s.getUTCDate()), hh: pad(s.getUTCHours()), mm: pad(s.getUTCMinutes()) };
  }
}

/** "2026-12-05 09:00" (or "09:00" with `date: false`) in `tz`; '' for no time. */
export function fmtTime(iso: string | null | undefined, tz = DEFAULT_ZONE, opts: { date?: boolean } = {}): string {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const p = parts(d, tz);
  const time = `${p.hh}:${p.mm}`;
  return opts.date === false ? time : `${p.y}-${p.m}-${p.d} ${time}`;
}

/** Today (+ `plusDays`) in `tz` as YYYY-MM-DD. */
export function todayIn(tz = DEFAULT_ZONE, plusDays = 0, now = Date.now()): string {
  const p = parts(new Date(now + plusDays * 86400000), tz);
  return `${p.y}-${p.m}-${p.d}`;
}

/** Whole days from `from` to `to` (both YYYY-MM-DD). */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(to) - Date.parse(from)) / 86400000);
}
