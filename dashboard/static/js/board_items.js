// Upkeep of the public board's items: each form sends its fields as JSON to the URL it names, path fields
// (`{month}`, `{period}` …) taken out of the body.
import { api } from './api.js';

for (const form of document.querySelectorAll('.upkeep form')) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const body = Object.fromEntries(new FormData(form).entries());
    const ints = (form.dataset.ints ?? '').split(' ').filter(Boolean);
    for (const key of ints) body[key] = Number(body[key]);
    const url = form.dataset.url.replace(/\{(\w+)\}/g, (_, key) => {
      const value = body[key];
      delete body[key];
      return encodeURIComponent(value);
    });
    const msg = form.querySelector('.msg');
    try {
      await api(url, { method: form.dataset.method, body });
      msg.textContent = '✓';
    } catch (err) {
      msg.textContent = err.message;
    }
  });
}
