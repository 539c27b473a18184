// What every administration page shares: strings, the confirmation dialog, the result line, estate times.
import { i18n, lang } from './api.js';

export const t = (key, values = {}) =>
  Object.entries(values).reduce((text, [k, v]) => text.replaceAll(`{${k}}`, v), i18n[key] ?? key);

// Resolves true when the user confirms `question` in the page's <dialog id="adm-confirm">.
export function confirmed(question) {
  const dialog = document.getElementById('adm-confirm');
  dialog.querySelector('#adm-confirm-question').textContent = question;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

// Shows the outcome of a change next to where it was asked for: "Done" or the API's own message.
export function report(node, error, text) {
  node.hidden = false;
  node.className = error ? 'adm-result error' : 'adm-result ok';
  node.textContent = error ? t('adm_failed') + error.message : (text ?? t('adm_done'));
}

// Confirm, run the change, report it; answers the change's result, or null when refused or failed.
export async function change(node, question, run, done) {
  if (!(await confirmed(question))) return null;
  try {
    const result = await run();
    report(node, null, typeof done === 'function' ? done(result) : done);
    return result;
  } catch (error) {
    report(node, error);
    return null;
  }
}

// The estate's UTC offset as a marker ("UTC+8"), the way the console shows it.
export function zoneMarker(date, zone) {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' })
    .formatToParts(date).find((p) => p.type === 'timeZoneName');
  return (part?.value ?? 'UTC').replace('GMT', 'UTC');
}

// "2026-12-07 20:01 UTC+8" in the estate's zone.
export function estateTime(iso, zone = 'Asia/Shanghai') {
  if (!iso) return '';
  const date = new Date(iso);
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-CA', {
    timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
  }).formatToParts(date).map((p) => [p.type, p.value]));
  return `${parts.year}-${parts.month}-${parts.day} ${parts.hour}:${parts.minute} ${zoneMarker(date, zone)}`;
}

// A <input type="datetime-local"> value read as a time in `zone`, as an ISO instant.
export function fromEstateTime(local, zone = 'Asia/Shanghai') {
  const guess = new Date(`${local}:00Z`);
  const offset = zoneMarker(guess, zone).match(/UTC([+-])(\d+)(?::(\d+))?/);
  const minutes = offset ? (offset[1] === '-' ? -1 : 1) * (Number(offset[2]) * 60 + Number(offset[3] ?? 0)) : 0;
  return new Date(guess.getTime() - minutes * 60000).toISOString();
}

// A JSON change like api(), whose refusal carries the HTTP status, so a page can tell a conflict (409) apart.
export async function send(path, method, body) {
  const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
  const res = await fetch(path, {
    method, credentials: 'same-origin', body: JSON.stringify(body),
    headers: { 'X-CSRF-Token': csrf, Accept: 'application/json', 'Content-Type': 'application/json' },
  });
  const data = await res.json().catch(() => null);
  if (res.ok) return data;
  const error = new Error(data?.error?.message ?? `HTTP ${res.status}`);
  error.status = res.status;
  throw error;
}

export { lang };
