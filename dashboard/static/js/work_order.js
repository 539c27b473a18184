// One work order's page: the running SLA clocks tick, photos open full-size, each operator action asks for a
// confirmation with a reason (wo_actions.js) and reloads the page; a change made elsewhere reloads it too.
import { live } from './api.js';
import { confirmAction } from './wo_actions.js';
import { dueText } from './wo_clock.js';

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
