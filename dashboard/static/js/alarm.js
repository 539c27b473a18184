// Alarm detail: acknowledge, clear or shelve (silence the device) after a confirmation with a reason; then reload.
// The dialog does not close on a blank reason (spaces are blank too: the API refuses an acknowledgement without
// a comment). A change to this alarm made elsewhere (the engine, another operator) reloads the page too.
import { api, i18n, live } from './api.js';
import { refusal } from './refusal.js';

const dialog = document.getElementById('action-dialog');
const errorBox = document.getElementById('action-error');
const reasonBox = document.getElementById('reason');
const reasonError = document.getElementById('reason-error');

// `required` lets spaces through; a custom validity keeps the dialog open and says why, in the reader's language.
function checkReason() {
  const blank = !reasonBox.value.trim();
  reasonBox.setCustomValidity(blank ? i18n.comment_required : '');
  if (!blank) reasonError.hidden = true;
}
reasonBox.addEventListener('input', checkReason);
reasonBox.addEventListener('invalid', () => {
  reasonError.textContent = i18n.comment_required;
  reasonError.hidden = false;
});

function ask(action) {
  document.getElementById('action-title').textContent = i18n[action];
  document.getElementById('action-question').textContent = i18n.confirm_one.replace('{action}', i18n[action]).replace('{title}', i18n.title);
  document.getElementById('hours-row').hidden = action !== 'shelve';
  reasonBox.value = '';
  reasonError.hidden = true;
  checkReason();
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

async function run(action, reason) {
  if (action === 'shelve') {
    const hours = Number(document.getElementById('hours').value || 2);
    const now = new Date();
    await api('/api/v1/silences', { method: 'POST', body: {
      scope_type: 'device', scope_id: i18n.device_id, starts_at: now.toISOString(),
      ends_at: new Date(now.getTime() + hours * 3600e3).toISOString(), reason } });
  } else {
    await api(`/api/v1/alarms/${i18n.alarm_id}/${action}`, { method: 'POST', body: { comment: reason } });
  }
}

for (const button of document.querySelectorAll('[data-action]')) {
  button.addEventListener('click', async () => {
    const action = button.dataset.action;
    if (!(await ask(action))) return;
    const reason = document.getElementById('reason').value.trim();
    try {
      await run(action, reason);
      location.reload();
    } catch (err) {
      errorBox.textContent = refusal(err);
      errorBox.hidden = false;
    }
  });
}

// Only a transition newer than the page's newest reloads it: the page's own action has reloaded it already,
// and reloading again on the echo of that action made a busy page reload twice for every action.
const shownUpTo = Number(document.getElementById('alarm').dataset.lastTransition);
live((name, data) => {
  if (name !== 'alarm' || Number(data.alarm_id) !== i18n.alarm_id || dialog.open) return;
  if (Number(data.transition_id) <= shownUpTo) return;
  location.reload();
});
