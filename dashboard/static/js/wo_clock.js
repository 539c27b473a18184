// Times and durations of the work-order pages: times in the estate's zone with its offset (`UTC+8`), SLA clocks as
// `mm:ss` under an hour and `h:mm` above, never negative (an overdue step says "overdue by").
import { i18n } from './api.js';

// A UI string with its {placeholders} filled.
export const fill = (template, values) => Object.entries(values).reduce((text, [k, v]) => text.replaceAll(`{${k}}`, v), template);

export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 3600) return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;
}

// "Resolve due in 12:30" or "Resolve overdue by 1:05", as of now.
export function dueText(iso, step) {
  const left = new Date(iso) - Date.now();
  const stepName = i18n[`wo_step_${step}`] ?? step;
  return left >= 0
    ? { text: fill(i18n.wo_due_in, { step: stepName, t: clock(left) }), overdue: false }
    : { text: fill(i18n.wo_overdue_by, { step: stepName, t: clock(-left) }), overdue: true };
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
