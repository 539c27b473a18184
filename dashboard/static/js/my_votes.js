// My votes: cast or change my household's ballot in an open vote; the page then shows the choice recorded.
import { api } from './api.js';
import { showError } from './confirm_step.js';

for (const card of document.querySelectorAll('.vote[data-state="open"]')) {
  for (const button of card.querySelectorAll('button.choice')) {
    button.addEventListener('click', async () => {
      try {
        await api(`/api/v1/owners/votes/${card.dataset.voteId}/ballot`, { method: 'POST',
          body: { choice: button.dataset.choice } });
        location.reload();
      } catch (err) { showError(card, err); }
    });
  }
}
