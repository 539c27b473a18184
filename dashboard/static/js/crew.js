// Crew: my unit's open orders, newest first; tap to open.
import { api, countdown, el, i18n, live } from './api.js';

const list = document.getElementById('orders');
const OPEN = ['NEW', 'ACKED', 'DISPATCHED', 'EN_ROUTE', 'ON_SITE', 'IN_PROGRESS', 'ON_HOLD'];

async function refresh() {
  const page = await api(`/api/v1/work-orders?limit=100&${OPEN.map((s) => `state=${s}`).join('&')}`);
  list.replaceChildren(...page.items.map((o) => {
    const due = o.due?.arrive || o.due?.resolve;
    const c = due ? countdown(due) : null;
    return el('li', { class: `sev-${o.severity}`, 'data-order-id': o.id },
      el('a', { href: `/crew/orders/${o.id}` },
        el('span', { class: `badge ${o.severity}` }, o.severity ?? ''), ' ', el('strong', {}, o.title ?? o.number),
        el('div', { class: 'meta' }, `${o.number ?? ''} · ${i18n.states?.[o.state] ?? o.state}`, c ? el('span', { class: c.overdue ? 'overdue' : '' }, ` · ${i18n.due} ${c.text}`) : null)));
  }));
}

live(() => refresh());
refresh();
