// The control room's confirmation dialogs (alarm console, work-order actions): a <dialog> whose <h2> names the
// action and whose next paragraph asks the question; rows shown only for the actions that need them, fields
// emptied on each opening, and a message line under the form for what went wrong.

/** Open `dialog` asking `question` under `heading`; `rows` is [element, shown] pairs, `cleared` the fields to
 * empty. Resolves to the dialog's returnValue once it closes ('' when it was dismissed). */
export function ask(dialog, { heading, question, rows = [], cleared = [] }) {
  dialog.querySelector('h2').textContent = heading;
  dialog.querySelector('h2 + p').textContent = question;
  for (const [row, shown] of rows) row.hidden = !shown;
  for (const field of cleared) field.value = '';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue), { once: true }));
}

/** Put `message` on the line `box`, hiding the line while there is nothing to say. */
export function tell(box, message) {
  box.textContent = message;
  box.hidden = !message;
}
