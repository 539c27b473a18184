// Owners' votes: the estate's steward opens a vote (closing time in the estate's zone) and closes it after a
// confirmation, which counts and publishes the result.
import { api, i18n } from './api.js';
import { confirmStep, showError } from './confirm_step.js';

const form = document.getElementById('new-vote');
// The electorate of the chosen scope (homes, exclusive area) shows before the vote is opened.
const scope = form?.querySelector('#vote-scope');
scope?.addEventListener('change', () => {
  form.querySelector('#electorate').textContent = scope.selectedOptions[0].dataset.electorate;
});
form?.addEventListener('submit', async (e) => {
  e.preventDefault();
  const data = new FormData(form);
  const closes = form.querySelector('#closes-at');
  const [siteId, scopeType, scopeId] = data.get('scope').split('|');
  const body = { matter: data.get('matter'), title: data.get('title'), description: data.get('description') ?? '',
    closes_at: `${data.get('closes_at')}:00${closes.dataset.offset}`, scope_type: scopeType, scope_id: scopeId };
  if (data.get('amount')) body.amount = data.get('amount');
  try {
    await api(`/api/v1/fund/sites/${encodeURIComponent(siteId)}/votes`, { method: 'POST', body });
    location.reload();
  } catch (err) { showError(form, err); }
});

for (const card of document.querySelectorAll('.vote')) {
  card.querySelector('button.close-vote')?.addEventListener('click', async () => {
    if (!await confirmStep(i18n.confirm_close, card.querySelector('h2').textContent)) return;
    try {
      await api(`/api/v1/fund/votes/${card.dataset.voteId}/close`, { method: 'POST' });
      location.reload();
    } catch (err) { showError(card, err); }
  });
}
