// The admin page's holiday-file parser (web/admin/holidays.js): the date forms it reads, ranges,
// what it skips, and the reason it gives for each line it refuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { importWeb } from '../lib/webmodule.mjs';

const { parseHolidays, MAX_DATES } = await importWeb('admin/holidays.js');

test('dates in several forms, ranges, names after them; header, comments and blanks skipped', () => {
  const { dates, lines } = parseHolidays(
    '\uFEFF日期,名称\r\n2026-10-01~2026-10-03,国庆节\n2026/1/1 元旦\n\n# 调休另行设置\n20260501\t劳动节\n2026年5月4日\n2026-10-06 至 2026-10-07 国庆节\n2026-10-02\n',
  );
  assert.deepEqual(dates, ['2026-10-01', '2026-10-02', '2026-10-03', '2026-01-01', '2026-05-01', '2026-05-04', '2026-10-06', '2026-10-07']);
  assert.deepEqual(lines.filter((l) => l.skip).map((l) => l.no), [1, 4, 5, 10]);
  assert.deepEqual(lines.find((l) => l.no === 9).dates, ['2026-10-02'], 'a date given twice stays on its line');
  assert.ok(lines.every((l) => !l.error));
});

test('every refused line says why', () => {
  const { dates, lines } = parseHolidays('2026-01-01\n2026-02-30\nhello\n2026-10-05~2026-10-04\n2026-01-01~2026-03-01\n2026-13-01\n1899-01-01\n2026-01-01~2026-01-02~2026-01-03');
  assert.deepEqual(
    lines.map((l) => [l.no, l.error || 'ok']),
    [[1, 'ok'], [2, 'notDate'], [3, 'notDate'], [4, 'badRange'], [5, 'badRange'], [6, 'notDate'], [7, 'notDate'], [8, 'notDate']],
  );
  assert.deepEqual(dates, ['2026-01-01']);
});

test('more dates than the limit: the lines past it are refused, not cut', () => {
  const text = Array.from({ length: 20 }, (_, i) => `${2030 + i}-01-01~${2030 + i}-01-31`).join('\n');
  const { dates, lines } = parseHolidays(text);
  assert.ok(dates.length <= MAX_DATES);
  const cut = lines.findIndex((l) => l.error === 'tooMany');
  assert.equal(cut, Math.floor(MAX_DATES / 31));
  assert.ok(lines.slice(cut).every((l) => l.error === 'tooMany'));
});
