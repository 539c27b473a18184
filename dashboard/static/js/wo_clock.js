// Times and durations of the work-order pages and the crew app: times in the estate's zone with its offset
// (`UTC+8`), SLA clocks with their units (`12分05秒`, `1小时30分`; an overdue step says "overdue by").
import { i18n } from './api.js';

// A UI string with its {placeholders} filled.
export const fill = (template, values) => Object.entries(values).reduce((text, [k, v]) => text.replaceAll(`{${k}}`, v), template);

// A length of time that reads one way only: `45秒` / `45 s`, `12分05秒` / `12 min 05 s` under an hour,
// `1小时30分` / `1 h 30 min` under a day, then `2天3小时` / `2 d 3 h`; the sign is dropped (callers say "overdue").
export function span(ms) {
  const s = Math.floor(Math.abs(ms) / 1000);
  const two = (n) => String(n).padStart(2, '0');
  if (s < 60) return fill(i18n.wo_span_s, { s });
  if (s < 3600) return fill(i18n.wo_span_ms, { m: Math.floor(s / 60), s: two(s % 60) });
  if (s < 86400) return fill(i18n.wo_span_hm, { h: Math.floor(s / 3600), m: two(Math.floor((s % 3600) / 60)) });
  return fill(i18n.wo_span_dh, { d: Math.floor(s / 86400), h: Math.floor((s % 86400) / 3600) });
}

// "Resolve due in 12 min 30 s" or "Resolve overdue by 1 h 05 min", as of now.
export function dueText(iso, step) {
  const left = new Date(iso) - Date.now();
  const stepName = i18n[`wo_step_${step}`] ?? step;
  return left >= 0
    ? { text: fill(i18n.wo_due_in, { step: stepName, t: span(left) }), overdue: false }
    : { text: fill(i18n.wo_overdue_by, { step: stepName, t: span(left) }), overdue: true };
}

// The offset of `zone` at `date`: { marker: 'UTC+8', iso: '+08:00' }.
export function zoneOffset(zone, date = new Date()) {
  const name = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(date).find((p) => p.type === 'timeZoneName')?.value ?? 'GMT';
  const [, sign = '+', hh = '00', mm = '00'] = name.match(/GMT([+-])(\d{2}):(\d{2})/) ?? [];
  const marker = `UTC${sign}${Number(hh)}${mm !== '00' ? `:${mm}` : ''}`;
  return { marker, iso: `${sign}${hh}:${mm}` };
}

// `2026-12-07 20:01 UTC+8`: the estate's wall clock and its offset.
export function siteTime(iso, zone = 'Asia/Shanghai') {
  if (!iso) return '';
  const date = new Date(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zoneOffset(zone, date).marker}`;
}
