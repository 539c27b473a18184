// Fund approvals: draws awaiting a decision, with apportionment; approve or reject with a comment.
import { api, el, i18n } from './api.js';

const box = document.getElementById('draws');
const canApprove = box.dataset.canApprove === 'yes';

async function decide(draw, verb, input) {
  try {
    await api(`/api/v1/fund/draws/${draw.id}/${verb}`, { method: 'POST', body: { comment: input.value } });
  } catch (err) { input.setCustomValidity(err.message); input.reportValidity(); }
  refresh();
}

async function refresh() {
  const page = await api('/api/v1/fund/draws?limit=200');
  const order = (d) => (d.state === 'pending' ? 0 : 1);
  const items = [...page.items].sort((a, b) => order(a) - order(b) || b.id - a.id);
  box.replaceChildren(...items.map((d) => {
    const comment = el('input', { placeholder: i18n.comment, class: 'comment' });
    const pending = d.state === 'pending';
    return el('article', { class: 'card draw', 'data-draw-id': d.id, 'data-state': d.state },
      el('h2', {}, `${d.item} `, el('small', {}, `${i18n.state}: ${d.state}`)),
      el('p', {}, `${i18n.amount}: ¥${d.actual_cost ?? d.estimate} · ${d.kind} · ${d.work_order_number ?? ''} · ${d.contractor}`),
      el('p', { class: 'muted' }, `${d.site_id} · ${d.scope_type} ${d.scope_id} · ${d.route} · ${d.review_due_at ?? ''}`),
      canApprove && pending ? el('div', { class: 'decide' }, comment,
        el('button', { class: 'approve', onclick: () => decide(d, 'approve', comment) }, i18n.approve),
        el('button', { class: 'reject', onclick: () => decide(d, 'reject', comment) }, i18n.reject)) : null);
  }));
}

refresh();
