// The service centre's bookings (notice clause 15): confirm a wished slot, record the service done, or cancel
// with a reason the owner sees.
import { api, i18n } from './api.js';

const msg = document.getElementById('desk-msg');
for (const button of document.querySelectorAll('tr.booking button[data-action]')) {
  button.addEventListener('click', async () => {
    const id = button.closest('tr').dataset.bookingId;
    const { action } = button.dataset;
    let body = {};
    if (action === 'cancel') {
      const reason = window.prompt(i18n.reason);
      if (!reason) return;
      body = { reason };
    }
    try {
      await api(`/api/v1/bookings/${id}/${action}`, { method: 'POST', body });
      window.location.reload();
    } catch (err) {
      msg.textContent = err.message;
    }
  });
}
