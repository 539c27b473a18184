// The confirmation before a step that cannot be undone (approve, reject, complete, close a vote): the page's
// <dialog id="confirm"> (templates/_confirm.html) asks the question; resolves true on confirm.
import { refusal } from './refusal.js';

export function confirmStep(question, detail = '') {
  const dialog = document.getElementById('confirm');
  dialog.querySelector('#confirm-text').textContent = question;
  dialog.querySelector('#confirm-detail').textContent = detail;
  return new Promise((resolve) => {
    const done = (ok) => () => { dialog.close(); resolve(ok); };
    dialog.querySelector('button.confirm').onclick = done(true);
    dialog.querySelector('button.cancel').onclick = done(false);
    dialog.oncancel = done(false);
    dialog.showModal();
  });
}

// Show an API error in the reader's language next to the control that caused it.
export function showError(box, err) {
  const msg = box.querySelector('.msg') ?? box.parentElement.querySelector('.msg');
  if (msg) msg.textContent = refusal(err);
}
