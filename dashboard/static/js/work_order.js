// One work order's page: the running SLA clocks tick, photos open full-size, each operator action asks for a
// confirmation with a reason (wo_actions.js) and reloads the page; costs are added after the repair in their own
// dialog; a change made elsewhere reloads it too.
import { api, i18n, live } from './api.js';
import { tell } from './confirm_dialog.js';
import { refusal } from './refusal.js';
import { confirmAction } from './wo_actions.js';
import { dueText } from './wo_clock.js';
import { fen, isAmount, readParts } from './wo_costs.js';

const article = document.getElementById('order');
const order = {
  id: Number(article.dataset.orderId), number: article.dataset.number, unit_id: article.dataset.unitId,
  site_id: article.dataset.siteId, assignee_id: article.dataset.assigneeId || null,
};
const busy = () => document.querySelector('dialog[open]') !== null;
// One reload at a time: the action's own answer and its live event arrive together.
let leaving = false;
function reload() {
  if (leaving) return;
  leaving = true;
  location.reload();
}

function tick() {
  for (const timer of document.querySelectorAll('.timer[data-due]')) {
    const { text, overdue } = dueText(timer.dataset.due, timer.dataset.step);
    timer.textContent = text;
    timer.classList.toggle('overdue', overdue);
  }
}

for (const button of document.querySelectorAll('#actions [data-action]')) {
  button.addEventListener('click', async () => {
    if (await confirmAction(order, button.dataset.action)) reload();
  });
}

// Costs added once the repair is done (a fund draw completes at the order's cost): what they are for, the
// labour and the priced parts, sent to POST /api/v1/work-orders/{id}/costs; the refusal is said in the dialog.
const costs = document.getElementById('costs-dialog');
function costsBody() {
  const note = document.getElementById('costs-note').value.trim();
  const labour = document.getElementById('costs-labour').value.trim();
  const read = readParts(document.getElementById('costs-parts').value);
  if (!note) return i18n.wo_costs_note_needed;
  if ((labour && !isAmount(labour)) || !read) return i18n.wo_costs_invalid;
  if ((labour ? fen(labour) : 0) + read.total <= 0) return i18n.wo_costs_nothing;
  return { note, cost: labour || null, parts: read.parts.length ? read.parts : null };
}
document.getElementById('record-costs')?.addEventListener('click', () => {
  for (const id of ['costs-note', 'costs-labour', 'costs-parts']) document.getElementById(id).value = '';
  tell(document.getElementById('costs-error'), '');
  costs.showModal();
});
document.getElementById('costs-cancel')?.addEventListener('click', () => costs.close());
document.getElementById('costs-form')?.addEventListener('submit', async (event) => {
  event.preventDefault();
  const body = costsBody();
  const problem = document.getElementById('costs-error');
  if (typeof body === 'string') { tell(problem, body); return; }
  const ok = document.getElementById('costs-ok');
  ok.disabled = true;
  try {
    await api(`/api/v1/work-orders/${order.id}/costs`, { method: 'POST', body });
    costs.close();
    reload();
  } catch (err) {
    tell(problem, refusal(err));
  } finally {
    ok.disabled = false;
  }
});

const viewer = document.getElementById('photo-view');
for (const link of document.querySelectorAll('a[data-photo]')) {
  link.addEventListener('click', (event) => {
    event.preventDefault();
    document.getElementById('photo-full').src = link.href;
    viewer.showModal();
  });
}

tick();
setInterval(tick, 1000);
// The committee has no event stream: its page reloads itself now and then instead.
if (article.dataset.live === 'yes') {
  live((name, data) => {
    if (name === 'work_order' && Number(data.id) === order.id && !busy()) reload();
  });
} else {
  setInterval(() => { if (!busy()) reload(); }, 60000);
}
