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

// "due in 12 min 30 s" or "overdue by 1 h 05 min", and whether it is late; with the `step` named where the line
// does not already say which deadline it is ("到场剩余 12分30秒", "Arrive due in 12 min 30 s").
export function dueText(iso, now = Date.now(), step = null) {
  const left = new Date(iso) - now;
  const values = { t: span(left), step: step ? say(`crew_step_${step}`) : '' };
  const key = `crew_${step ? 'step_' : ''}${left < 0 ? 'overdue_by' : 'due_in'}`;
  return { text: say(key, values), overdue: left < 0 };
}

// The SLA steps in order, with the stamp that satisfies each.
export const STEPS = [['ack', 'acked_at'], ['dispatch', 'dispatched_at'], ['arrive', 'on_site_at'],
  ['resolve', 'resolved_at']];

// States in which nothing is due any more.
export const FINISHED = ['RESOLVED', 'VERIFIED', 'CLOSED', 'CANCELLED', 'FALSE_ALARM'];

// The first step not yet met and its deadline, { step, at } (an order moves through them in order); null once
// the order is finished.
export function nextStep(order) {
  if (FINISHED.includes(order.state)) return null;
  for (const [step, stamp] of STEPS) if (order.due?.[step] && !order[stamp]) return { step, at: order.due[step] };
  return null;
}

// The deadline of the next step, or null.
export const nextDue = (order) => nextStep(order)?.at ?? null;

// The attributes of a live countdown to the next step, naming the step: { 'data-due', 'data-step' }, or null.
export function dueAttrs(order) {
  const next = nextStep(order);
  return next ? { 'data-due': next.at, 'data-step': next.step } : null;
}

// Every element carrying data-due shows its live countdown (naming its step when it carries data-step).
export function tickDue(root = document) {
  const now = Date.now();
  for (const node of root.querySelectorAll('[data-due]')) {
    const due = dueText(node.dataset.due, now, node.dataset.step ?? null);
    node.textContent = due.text;
    node.classList.toggle('overdue', due.overdue);
  }
}
