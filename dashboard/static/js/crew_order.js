// Crew: one order: accept, en route, on site, start, note/parts/cost, resolve, photos.
import { api, el, fmtTime, i18n } from './api.js';

const box = document.getElementById('order');
const id = box.dataset.orderId;
const me = box.dataset.crewMember;
const msg = document.getElementById('msg');

const label = (state) => i18n.states?.[state] ?? state;

async function load() {
  const o = await api(`/api/v1/work-orders/${id}`);
  document.getElementById('order-title').textContent = `${o.number ?? '#' + o.id} ${o.title ?? ''}`;
  document.getElementById('order-state').textContent = label(o.state);
  box.dataset.state = o.state;
  box.dataset.mine = o.assignee_id === me ? 'yes' : 'no';
  const mine = o.assignee_id === me;
  const next = { ACCEPT: !o.assignee_id && ['NEW', 'ACKED', 'DISPATCHED'].includes(o.state),
    EN_ROUTE: mine && o.state === 'DISPATCHED', ON_SITE: mine && o.state === 'EN_ROUTE',
    IN_PROGRESS: mine && ['ON_SITE', 'ON_HOLD'].includes(o.state), RESOLVED: mine && o.state === 'IN_PROGRESS' };
  for (const b of box.querySelectorAll('button[data-to]')) b.disabled = !next[b.dataset.to];
  document.getElementById('photo').disabled = !mine;
  // Events that carry neither a state change nor a note (e.g. the order's creation record) say nothing here.
  const events = (o.events || []).filter((e) => e.to_state || e.note);
  document.getElementById('events').replaceChildren(...events.map((e) =>
    el('li', {}, fmtTime(e.at), ' ',
      e.to_state ? el('strong', {}, `${e.from_state ? label(e.from_state) : ''} → ${label(e.to_state)}`) : '',
      ' ', e.note ?? '')));
}

function parts() {
  const text = document.getElementById('parts').value.trim();
  if (!text) return null;
  return text.split(/[,，;；]/).map((p) => p.trim()).filter(Boolean).map((p) => {
    const m = p.match(/^(.*?)\s*[x×*]\s*(\d+(?:\.\d+)?)$/i);
    return m ? { name: m[1], quantity: m[2] } : { name: p, quantity: '1' };
  });
}

for (const button of box.querySelectorAll('button[data-to]')) {
  button.addEventListener('click', async () => {
    msg.textContent = '';
    try {
      if (button.dataset.to === 'ACCEPT') {
        await api(`/api/v1/work-orders/${id}/accept`, { method: 'POST' });
      } else {
        const body = { to_state: button.dataset.to, note: document.getElementById('note').value || null };
        if (button.dataset.to === 'RESOLVED') {
          const cost = document.getElementById('cost').value.trim();
          if (cost) body.cost = cost;
          body.parts = parts();
        }
        await api(`/api/v1/work-orders/${id}/transition`, { method: 'POST', body });
      }
      msg.textContent = '✓';
    } catch (err) { msg.textContent = err.message; }
    await load();
  });
}

document.getElementById('photo').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  if (!file) return;
  const form = new FormData();
  form.append('photo', file);
  try { await api(`/api/v1/work-orders/${id}/photos`, { method: 'POST', form }); msg.textContent = '✓'; }
  catch (err) { msg.textContent = err.message; }
});

load();
