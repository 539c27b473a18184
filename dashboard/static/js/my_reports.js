// My reports: file a report for my estate; the list below shows it (and every report I filed) after the reload.
import { api } from './api.js';
import { refusal } from './refusal.js';

const form = document.getElementById('report');
form?.addEventListener('submit', async (e) => {
  e.preventDefault();
  const data = new FormData(form);
  const body = { site_id: form.dataset.siteId, origin: 'owner_report', category: data.get('category'),
    description: data.get('description'), address: data.get('address'),
    reporter_contact: data.get('reporter_contact') ?? '' };
  if (form.dataset.buildingId) body.building_id = form.dataset.buildingId;
  const msg = form.querySelector('.msg');
  try {
    await api('/api/v1/complaints', { method: 'POST', body });
    location.reload();
  } catch (err) { msg.className = 'msg error'; msg.textContent = refusal(err); }
});
