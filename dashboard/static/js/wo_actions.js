// The control room's actions on a work order (ack, assign/reassign, hold, resume, cancel, false alarm, verify,
// close, reopen): each asks for confirmation with a reason in the #wo-dialog (templates/wo_dialog.html) before it
// calls POST /api/v1/work-orders/{id}/<action>; the API's refusal is shown in the dialog in the reader's language.
import { api, el, i18n } from './api.js';
import { ask, tell } from './confirm_dialog.js';
import { refusal } from './refusal.js';
import { fill } from './wo_clock.js';

// The dialog's parts (templates/wo_dialog.html).
const [dialog, form, reason, memberRow, member, problem, ok] = ['wo-dialog', 'wo-dialog-form', 'wo-reason',
  'wo-member-row', 'wo-member', 'wo-dialog-error', 'wo-dialog-ok'].map((id) => document.getElementById(id));

const PATHS = { false_alarm: 'false-alarm', reassign: 'assign' };
const PICKS_CREW = new Set(['assign', 'reassign']);

// Who can take the order: the API's ranking first (on shift, with the skill, least loaded), then the unit's other
// active members who are off shift now (the API records calling one in).
async function fillCrew(order) {
  member.replaceChildren(el('option', { value: '' }, i18n.wo_pick_member));
  const ranked = await api(`/api/v1/work-orders/${order.id}/candidates`);
  const listed = new Set();
  for (const { member: m, open_orders: load } of ranked) {
    listed.add(m.id);
    member.append(el('option', { value: m.id }, fill(i18n.wo_member_load, { name: m.name, n: load })));
  }
  const unit = await api(`/api/v1/crew?unit_id=${encodeURIComponent(order.unit_id)}&site_id=${encodeURIComponent(order.site_id)}&active=true&limit=500`);
  for (const m of unit.items) {
    if (!listed.has(m.id) && !m.available_now && m.id !== order.assignee_id) {
      member.append(el('option', { value: m.id }, fill(i18n.wo_member_off, { name: m.name })));
    }
  }
}

const show = (message) => tell(problem, message);

// Ask, then act. Resolves to the order as the API returns it, or null when the operator cancelled.
export async function confirmAction(order, action) {
  const label = i18n[`wo_act_${action}`];
  const picks = PICKS_CREW.has(action);
  dialog.dataset.action = action;
  show('');
  member.required = picks;
  const closed = ask(dialog, { heading: label, question: fill(i18n.wo_confirm, { action: label, number: order.number }),
    rows: [[memberRow, picks]], cleared: [reason] });
  if (picks) fillCrew(order).catch((err) => show(refusal(err)));
  reason.focus();
  let result = null;
  const submit = async (event) => {
    event.preventDefault();
    const why = reason.value.trim();
    // The crew member first: an assignment without one cannot go, whatever the reason says.
    if (picks && !member.value) { show(i18n.wo_pick_member); member.focus(); return; }
    if (!why) { show(i18n.wo_reason_required); reason.focus(); return; }
    const body = picks ? { crew_member_id: member.value, reason: why } : { reason: why };
    ok.disabled = true;
    try {
      result = await api(`/api/v1/work-orders/${order.id}/${PATHS[action] ?? action}`, { method: 'POST', body });
      dialog.close();
    } catch (err) {
      show(refusal(err));
    } finally {
      ok.disabled = false;
    }
  };
  form.addEventListener('submit', submit);
  await closed;
  form.removeEventListener('submit', submit);
  return result;
}

// Only operators and admins get the dialog: the committee's and the sub-district's pages have none.
document.getElementById('wo-dialog-cancel')?.addEventListener('click', () => dialog.close());
