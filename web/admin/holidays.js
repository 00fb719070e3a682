// The holiday file an admin imports as closed dates (e.g. the State Council's yearly list typed
// out): text or CSV, one date or one range per line, a name may follow after a comma, tab or
// space. Dates: 2026-10-01, 2026/10/1, 2026.10.01, 20261001 or 2026年10月1日; ranges joined by
// `~`, `～` or `至` (at most 31 days). Blank lines, `#` comments and a header first line (one
// that does not start with a digit) are skipped. Every other line either gives its dates or
// says why not: `notDate`, `badRange`, `tooMany` (over MAX_DATES in the file).

export const MAX_DATES = 400;

/** `text` → {y, m, d} or null (a real calendar date, years 1900–2999). */
function parseDate(text) {
  const s = text.trim();
  let m = /^(\d{4})[-/.](\d{1,2})[-/.](\d{1,2})$/.exec(s) || /^(\d{4})(\d{2})(\d{2})$/.exec(s) || /^(\d{4})年(\d{1,2})月(\d{1,2})日?$/.exec(s);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (y < 1900 || y > 2999) return null;
  const dt = new Date(Date.UTC(y, mo - 1, d));
  if (dt.getUTCFullYear() !== y || dt.getUTCMonth() !== mo - 1 || dt.getUTCDate() !== d) return null;
  return dt;
}

const iso = (dt) => dt.toISOString().slice(0, 10);

/**
 * Parses the file's text. Returns {dates: the distinct dates in file order, lines: [{no, text,
 * skip, dates, error}]} with `no` the 1-based line number.
 */
export function parseHolidays(text) {
  const lines = [];
  const seen = new Set();
  const dates = [];
  const rows = String(text).replace(/^\uFEFF/, '').split(/\r\n|\r|\n/);
  rows.forEach((raw, i) => {
    const line = raw.trim();
    const no = i + 1;
    if (!line || line.startsWith('#') || (no === 1 && !/^\d/.test(line))) {
      lines.push({ no, text: line, skip: true, dates: [] });
      return;
    }
    const first = line.replace(/\s*([~～至])\s*/g, '$1').split(/[,，\t;；\s]/)[0];
    const [a, b, extra] = first.split(/[~～至]/);
    const start = parseDate(a || '');
    const end = b === undefined ? start : parseDate(b);
    if (!start || !end || extra !== undefined) {
      lines.push({ no, text: line, dates: [], error: 'notDate' });
      return;
    }
    const days = Math.round((end - start) / 86400000) + 1;
    if (days < 1 || days > 31) {
      lines.push({ no, text: line, dates: [], error: 'badRange' });
      return;
    }
    const mine = [];
    for (let k = 0; k < days; k++) mine.push(iso(new Date(start.getTime() + k * 86400000)));
    const fresh = mine.filter((d) => !seen.has(d));
    if (dates.length + fresh.length > MAX_DATES) {
      lines.push({ no, text: line, dates: [], error: 'tooMany' });
      return;
    }
    for (const d of fresh) {
      seen.add(d);
      dates.push(d);
    }
    lines.push({ no, text: line, dates: mine });
  });
  return { dates, lines };
}
