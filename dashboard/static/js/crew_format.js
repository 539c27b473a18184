// Crew app formatting: the estate's local time with its zone marker, and durations with their units (wo_clock.js).
import { i18n, lang } from './api.js';
import { span } from './wo_clock.js';

export const say = (key, values = {}) =>
  Object.entries(values).reduce((text, [k, v]) => text.replace(`{${k}}`, v), i18n[key] ?? key);

function zoneMarker(date, zone) {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' })
    .formatToParts(date).find((p) => p.type === 'timeZoneName');
  return (part?.value ?? 'UTC').replace('GMT', 'UTC');
}

// "12/07 14:05 UTC+8": month, day and clock in the estate's zone (a crew works today and tomorrow, not years).
export function siteTime(iso, zone = 'Asia/Shanghai') {
  if (!iso) return '';
  const date = new Date(iso);
  const text = date.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', {
    timeZone: zone, month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hour12: false });
  return `${text} ${zoneMarker(date, zone)}`;
}

// The clock alone ("14:05") in the estate's zone, where the date is already on the line.
export const siteClock = (iso, zone = 'Asia/Shanghai') => new Date(iso).toLocaleTimeString('en-GB', {
  timeZone: zone, hour: '2-digit', minute: '2-digit', hour12: false });

// The calendar day of a moment in the estate's zone, to tell what was closed today.
export const siteDay = (iso, zone = 'Asia/Shanghai') =>
  new Date(iso).toLocaleDateString('en-CA', { timeZone: zone });

// "due in 12 min 30 s" or "overdue by 1 h 05 min", and whether it is late.
export function dueText(iso, now = Date.now()) {
  const left = new Date(iso) - now;
  return { text: say(left < 0 ? 'crew_overdue_by' : 'crew_due_in', { t: span(left) }), overdue: left < 0 };
}

// The SLA steps in order, with the stamp that satisfies each.
export const STEPS = [['ack', 'acked_at'], ['dispatch', 'dispatched_at'], ['arrive', 'on_site_at'],
  ['resolve', 'resolved_at']];

// States in which nothing is due any more.
export const FINISHED = ['RESOLVED', 'VERIFIED', 'CLOSED', 'CANCELLED', 'FALSE_ALARM'];

// The deadline of the first step not yet met (an order moves through them in order); none once it is finished.
export function nextDue(order) {
  if (FINISHED.includes(order.state)) return null;
  for (const [step, stamp] of STEPS) if (order.due?.[step] && !order[stamp]) return order.due[step];
  return null;
}

// Every element carrying data-due shows its live countdown.
export function tickDue(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll('[data-due]')) {
    const due = dueText(node.dataset.due, now);
    node.textContent = due.text;
    node.classList.toggle('overdue', due.overdue);
  }
}
