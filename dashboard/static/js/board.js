// Work-order board: columns by state, SLA countdowns, escalations highlighted, verify resolved orders.
import { api, countdown, el, fmtTime, i18n, lang, live } from './api.js';

const COLUMNS = ['NEW', 'ACKED', 'DISPATCHED', 'EN_ROUTE', 'ON_SITE', 'IN_PROGRESS', 'ON_HOLD', 'RESOLVED'];
const board = document.getElementById('board');
const canVerify = board.dataset.canVerify === 'yes';
let orders = [];

function nextDue(o) {
  const due = o.due || {};
  const order = ['ack', 'dispatch', 'arrive', 'resolve'];
  const open = { NEW: 0, ACKED: 1, DISPATCHED: 2, EN_ROUTE: 2, ON_SITE: 3, IN_PROGRESS: 3, ON_HOLD: 3 }[o.state];
  if (open === undefined) return null;
  for (const key of order.slice(open)) if (due[key]) return { key, at: due[key] };
  const any = Object.entries(due).find(([, v]) => v);
  return any ? { key: any[0], at: any[1] } : null;
}

function card(o) {
  const d = nextDue(o);
  const timer = d ? el('span', { class: 'timer', 'data-due': d.at, title: `${i18n.due} ${d.key}` }) : null;
  const actions = [];
  if (canVerify && o.state === 'RESOLVED') {
    actions.push(el('button', { class: 'verify', onclick: async () => {
      await api(`/api/v1/work-orders/${o.id}/transition`, { method: 'POST', body: { to_state: 'VERIFIED' } });
      refresh();
    } }, i18n.verify));
  }
  return el('article', { class: `wo sev-${o.severity} ${o.escalation_level > 0 ? 'escalated' : ''}`, 'data-order-id': o.id },
    el('header', {}, el('span', { class: `badge ${o.severity}` }, o.severity ?? ''), ' ', el('strong', {}, o.number ?? `#${o.id}`),
      o.escalation_level > 0 ? el('span', { class: 'esc' }, ` ${i18n.escalated} L${o.escalation_level}`) : null),
    el('p', {}, o.title ?? o.category ?? ''),
    el('small', {}, `${o.site_id ?? ''} · ${o.unit_id ?? ''} · ${fmtTime(o.created_at)}`),
    timer, actions);
}

function render() {
  board.replaceChildren(...COLUMNS.map((state) => {
    const mine = orders.filter((o) => o.state === state);
    return el('section', { class: 'column', 'data-state': state }, el('h2', {}, `${i18n.states?.[state] ?? state} (${mine.length})`), mine.map(card));
  }));
  tick();
}

function tick() {
  for (const t of document.querySelectorAll('.timer')) {
    const c = countdown(t.dataset.due);
    t.textContent = c.overdue ? `${i18n.overdue} ${c.text}` : `${i18n.due} ${c.text}`;
    t.classList.toggle('overdue', c.overdue);
  }
}

async function refresh() {
  const page = await api(`/api/v1/work-orders?limit=500&${COLUMNS.map((s) => `state=${s}`).join('&')}`);
  orders = page.items;
  render();
}

document.getElementById('ticket-form')?.addEventListener('submit', async (e) => {
  e.preventDefault();
  const { ticket_no: ticketNo, reply_due: replyDue, ...body } = Object.fromEntries(new FormData(e.target).entries());
  if (body.origin === 'hotline_12345') {
    body.hotline = { ticket_no: ticketNo, received_at: new Date().toISOString(),
      reply_due: replyDue ? new Date(replyDue).toISOString() : null };
  }
  const msg = document.getElementById('ticket-msg');
  try {
    const order = await api('/api/v1/work-orders', { method: 'POST', body });
    msg.textContent = `✓ ${order.number}`;
    e.target.reset();
    refresh();
  } catch (err) { msg.textContent = err.message; }
});

setInterval(tick, 1000);
live(() => refresh());
refresh();
void lang;
