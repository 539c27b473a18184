// Owner home-service bookings (notice clause 15): book a published service, cancel before it is confirmed, rate it.
import { api, i18n } from './api.js';

async function act(call, msg) {
  try {
    await call();
    window.location.reload();
  } catch (err) {
    // A slot the booking rules refuse is explained in the reader's language (services/slots.py).
    msg.textContent = i18n[err.details?.reason] ?? err.message;
  }
}

// The lengths offered follow the chosen service's price: whole units of "元/2小时", a window for "元/次".
const service = document.getElementById('book-service');
service?.addEventListener('change', () => {
  const hours = document.getElementById('book-hours');
  hours.replaceChildren(...service.selectedOptions[0].dataset.hours.split(' ').map((h) => new Option(h, h)));
});

document.getElementById('book-form')?.addEventListener('submit', (e) => {
  e.preventDefault();
  const form = Object.fromEntries(new FormData(e.target).entries());
  // The slot is the estate's wall-clock time, whatever zone the phone is set to.
  const offset = e.target.dataset.utcOffset;
  const start = new Date(`${form.date}T${form.time}:00${offset}`);
  const end = new Date(start.getTime() + Number(form.hours) * 3600 * 1000);
  act(() => api('/api/v1/bookings', { method: 'POST', body: {
    service_id: Number(form.service_id), slot_start: start.toISOString(), slot_end: end.toISOString(), note: form.note,
  } }), document.getElementById('book-msg'));
});

const msg = document.getElementById('bookings-msg');
for (const button of document.querySelectorAll('[data-cancel]')) {
  button.addEventListener('click', () => act(
    () => api(`/api/v1/bookings/${button.dataset.cancel}/cancel`, { method: 'POST', body: {} }), msg));
}
for (const form of document.querySelectorAll('[data-rate]')) {
  form.addEventListener('submit', (e) => {
    e.preventDefault();
    const { rating, comment } = Object.fromEntries(new FormData(form).entries());
    act(() => api(`/api/v1/bookings/${form.dataset.rate}/rate`, { method: 'POST',
      body: { rating: Number(rating), comment } }), msg);
  });
}
