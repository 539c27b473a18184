// The crew's outbox: order actions wait in localStorage until the server has them. A network failure (or a 5xx)
// is retried with growing pauses and at once when the browser is back online; a refusal (409, 403, 422 …) is
// shown with the server's reason and never retried, since sending it again would be refused again.
import { api } from './api.js';

const KEY = 'pw.crew.outbox';
const FIRST_PAUSE_MS = 2000;
const LONGEST_PAUSE_MS = 60000;
// A request on a bad line may hang rather than fail; past this it counts as a network failure and is retried.
const SEND_TIMEOUT_MS = 20000;
const listeners = new Set();
let sending = false;
let timer = null;
let lastSent = null;

const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? '';

export const items = () => JSON.parse(localStorage.getItem(KEY) || '[]');

function save(list) {
  localStorage.setItem(KEY, JSON.stringify(list));
  for (const fn of listeners) fn(status());
}

/** What the page shows: queued count, sending, the refusals still on screen, the last action sent. */
export function status() {
  const list = items();
  return { queued: list.filter((i) => i.status === 'queued').length, sending, lastSent,
    failed: list.filter((i) => i.status === 'failed'), pending: list.filter((i) => i.status !== 'failed') };
}

export function onChange(fn) { listeners.add(fn); fn(status()); }

/** Queue an action on an order: ``accept`` (by crew member ``me``) or ``transition`` with its body; it is sent
 * at once if it can be. */
export function enqueue(orderId, kind, body = null, me = null) {
  const list = items();
  list.push({ id: `${Date.now()}-${Math.random().toString(36).slice(2, 8)}`, order: String(orderId), kind, body, me,
    status: 'queued', tries: 0, next: 0 });
  save(list);
  flush();
}

export function dismiss(id) { save(items().filter((i) => i.id !== id)); }

class Retry extends Error {}

// The order already is where the action meant to take it: the earlier try reached the server, its answer did not.
async function alreadyDone(item) {
  const order = await api(`/api/v1/work-orders/${item.order}`);
  if (item.kind === 'accept') return Boolean(order.assignee_id) && order.assignee_id === item.me;
  return order.state === item.body?.to_state;
}

async function send(item) {
  const path = `/api/v1/work-orders/${item.order}/${item.kind}`;
  const headers = { 'X-CSRF-Token': csrf(), Accept: 'application/json', 'Content-Type': 'application/json' };
  let res;
  try {
    res = await fetch(path, { method: 'POST', headers, credentials: 'same-origin',
      signal: AbortSignal.timeout(SEND_TIMEOUT_MS), body: item.body ? JSON.stringify(item.body) : undefined });
  } catch {
    throw new Retry('network');
  }
  if (res.ok) return null;
  if (res.status >= 500 || res.status === 408 || res.status === 429) throw new Retry(`HTTP ${res.status}`);
  const data = await res.json().catch(() => null);
  if (res.status === 409 && item.tries > 0 && await alreadyDone(item).catch(() => false)) return null;
  return { code: res.status, message: data?.error?.message ?? `HTTP ${res.status}`, why: data?.error?.details?.reason };
}

/** Send what is due, oldest first; one order's actions never overtake each other. */
export async function flush() {
  if (sending) return;
  clearTimeout(timer);
  sending = true;
  const held = new Set();
  try {
    for (const item of items()) {
      if (item.status !== 'queued' || held.has(item.order)) continue;
      if (item.next > Date.now()) { held.add(item.order); continue; }
      save(items());
      try {
        const refusal = await send(item);
        const list = items().filter((i) => i.id !== item.id);
        if (refusal) list.push({ ...item, status: 'failed', code: refusal.code, reason: refusal.message, why: refusal.why });
        else lastSent = { ...item, at: Date.now() };
        save(list);
      } catch (err) {
        if (!(err instanceof Retry)) throw err;
        held.add(item.order);
        const tries = item.tries + 1;
        const pause = Math.min(LONGEST_PAUSE_MS, FIRST_PAUSE_MS * 2 ** (tries - 1));
        save(items().map((i) => (i.id === item.id ? { ...i, tries, next: Date.now() + pause, reason: err.message } : i)));
      }
    }
  } finally {
    sending = false;
    save(items());
  }
  const waiting = items().filter((i) => i.status === 'queued');
  if (waiting.length) {
    const soonest = Math.min(...waiting.map((i) => i.next));
    timer = setTimeout(flush, Math.max(500, soonest - Date.now()));
  }
}

window.addEventListener('online', () => {
  save(items().map((i) => (i.status === 'queued' ? { ...i, next: 0 } : i)));
  flush();
});
// Another tab of the app changed the outbox.
window.addEventListener('storage', (e) => { if (e.key === KEY) for (const fn of listeners) fn(status()); });
flush();
