// Fund pages: the reviewer approves or rejects a draw with a reason after a confirmation; the control room
// completes an approved draw at the verified order's cost, and submits an application it has previewed.
import { api, i18n } from './api.js';
import { confirmStep, showError } from './confirm_step.js';

async function decide(card, verb) {
  const input = card.querySelector('input.comment');
  const reason = input.value.trim();
  // Said at the field and kept there (a validity bubble vanishes before anyone reads it).
  const needed = card.querySelector('.field-msg');
  needed.hidden = Boolean(reason);
  input.setAttribute('aria-invalid', String(!reason));
  if (!reason) { input.setCustomValidity(i18n.reason_needed); input.focus(); return; }
  input.setCustomValidity('');
  if (!await confirmStep(i18n[`confirm_${verb}`], reason)) return;
  try {
    await api(`/api/v1/fund/draws/${card.dataset.drawId}/${verb}`, { method: 'POST', body: { comment: reason } });
    location.reload();
  } catch (err) { showError(card, err); }
}

for (const card of document.querySelectorAll('.draw')) {
  card.querySelector('button.approve')?.addEventListener('click', () => decide(card, 'approve'));
  card.querySelector('button.reject')?.addEventListener('click', () => decide(card, 'reject'));
  card.querySelector('button.complete')?.addEventListener('click', async () => {
    if (!await confirmStep(i18n.confirm_complete)) return;
    try {
      await api(`/api/v1/fund/draws/${card.dataset.drawId}/complete`, { method: 'POST', body: {} });
      location.reload();
    } catch (err) { showError(card, err); }
  });
}

// The application's scope: the places of the chosen order's estate, its building first (the server does the same
// when the page is rendered for an order).
const order = document.getElementById('work-order');
const scope = document.getElementById('scope');
if (order && scope) {
  order.addEventListener('change', () => {
    const chosen = order.selectedOptions[0];
    for (const option of scope.options) option.hidden = option.dataset.site !== chosen.dataset.site;
    const wanted = [`building:${chosen.dataset.building}`, `site:${chosen.dataset.site}`];
    scope.value = wanted.find((v) => [...scope.options].some((o) => o.value === v && !o.hidden)) ?? '';
  });
}

// The application: what is submitted is what the page previewed (the server put it on the button), never a
// field edited since.
const form = document.getElementById('apply');
const submit = document.getElementById('submit-draw');
if (form && submit) {
  form.addEventListener('input', () => { submit.disabled = true; submit.title = i18n.preview_first; });
  submit.addEventListener('click', async () => {
    const d = submit.dataset;
    const body = { work_order_id: Number(d.workOrderId), kind: d.kind, item: d.item, contractor: d.contractor,
      scope_type: d.scopeType, scope_id: d.scopeId, estimate: d.estimate };
    try {
      const draw = await api('/api/v1/fund/draws', { method: 'POST', body });
      location.assign(`/fund-approvals/${draw.id}`);
    } catch (err) { showError(form, err); }
  });
}
