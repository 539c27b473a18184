// The supervision pages' actions, each through the audited supervision API (docs/api.md): record an
// inspection with the month's opinion, give a month's opinion, recompute a month's credit, add, publish and
// revoke list entries.
// A change reloads the page, which the server draws from the stored records; what was done is kept for the
// reload in sessionStorage and shown under the title. An API refusal is shown next to the button, as the API
// words it.
import { api, el, i18n } from './api.js';

const FLASH = 'sup-flash';

function fill(template, values) {
  return template.replace(/\{(\w+)\}/g, (_, key) => values[key] ?? '');
}

function done(text) {
  sessionStorage.setItem(FLASH, text);
  location.reload();
}

function showFlash() {
  const text = sessionStorage.getItem(FLASH);
  if (!text) return;
  sessionStorage.removeItem(FLASH);
  document.querySelector('h1')?.after(el('p', { class: 'sup-flash', role: 'status' }, text));
}

function failed(msg, err) {
  msg.textContent = err.message;
  msg.classList.add('error');
}

// The confirmation dialog; with `reason`, a reason is required and returned. Resolves to null when cancelled.
function confirmed(text, { reason = false } = {}) {
  const dialog = document.getElementById('sup-confirm');
  const field = dialog.querySelector('textarea[name=reason]');
  const error = document.getElementById('sup-confirm-error');
  document.getElementById('sup-confirm-text').textContent = text;
  document.getElementById('sup-confirm-reason').hidden = !reason;
  field.value = '';
  error.textContent = '';
  dialog.showModal();
  return new Promise((resolve) => {
    const ok = document.getElementById('sup-confirm-ok');
    const onOk = (e) => {
      if (reason && !field.value.trim()) {
        e.preventDefault();
        error.textContent = i18n.sup_reason_required;
        return;
      }
      cleanup();
      resolve(reason ? field.value.trim() : '');
    };
    const onClose = () => { cleanup(); resolve(null); };
    const cleanup = () => {
      ok.removeEventListener('click', onOk);
      dialog.removeEventListener('close', onClose);
      if (dialog.open) dialog.close();
    };
    ok.addEventListener('click', onOk);
    dialog.addEventListener('close', onClose);
  });
}

function recompute(form) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = form.querySelector('.msg');
    const month = form.elements.month.value;
    const question = fill(i18n.sup_recompute_confirm, { company: form.dataset.name, month });
    if (await confirmed(question) === null) return;
    try {
      const result = await api(`/api/v1/companies/${form.dataset.company}/credit/${month}/recompute`,
        { method: 'POST' });
      done(fill(i18n.sup_recomputed, { month, score: result.score ?? i18n.sup_no_data_month }));
    } catch (err) {
      failed(msg, err);
    }
  });
}

function opinion(form) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    try {
      await api(`/api/v1/companies/${form.dataset.company}/opinions/${f.month.value}`,
        { method: 'PUT', body: { rating: f.rating.value, text: f.text.value } });
      done(i18n.sup_saved);
    } catch (err) {
      failed(form.querySelector('.msg'), err);
    }
  });
}

function inspection(form) {
  const items = document.getElementById('items');
  const site = form.elements.site_id;
  const day = form.elements.inspected_on;
  // A date after today at the chosen estate is refused by the API; the picker stops there too.
  site.addEventListener('change', () => { day.max = site.selectedOptions[0].dataset.today; });
  items.addEventListener('click', (e) => {
    if (e.target.closest('.remove-item') && items.children.length > 1) e.target.closest('li').remove();
  });
  document.getElementById('add-item').addEventListener('click', () => {
    const row = items.lastElementChild.cloneNode(true);
    for (const input of row.querySelectorAll('input')) input.value = '';
    row.querySelector('select').value = 'pass';
    items.append(row);
    row.querySelector('input').focus();
  });
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = form.querySelector('.msg');
    msg.textContent = '';
    msg.classList.remove('error');
    const body = {
      site_id: site.value,
      inspected_on: day.value,
      score: form.elements.score.value,
      items: [...items.children].map((li) => ({
        item: li.querySelector('[name=item]').value,
        result: li.querySelector('[name=result]').value,
        remarks: li.querySelector('[name=remarks]').value,
      })),
    };
    try {
      const made = await api('/api/v1/inspections', { method: 'POST', body });
      const rating = form.elements.rating.value;
      if (rating) {
        await api(`/api/v1/companies/${made.company_id}/opinions/${made.inspected_on.slice(0, 7)}`,
          { method: 'PUT', body: { rating, text: form.elements.opinion_text.value } });
      }
      done(i18n.sup_inspection_saved);
    } catch (err) {
      failed(msg, err);
    }
  });
}

function entry(form) {
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const msg = form.querySelector('.msg');
    const f = form.elements;
    const body = {
      list: f.list.value,
      reason: f.reason.value,
      evidence: f.evidence.value,
      evidence_links: f.evidence_links.value.split('\n').map((s) => s.trim()).filter(Boolean),
      work_order_ids: f.work_order_ids.value.split(/[,，\s]+/).filter(Boolean).map(Number),
      effective_from: f.effective_from.value,
      effective_until: f.effective_until.value || null,
      published: f.published.checked,
    };
    try {
      await api(`/api/v1/companies/${f.company_id.value}/list-entries`, { method: 'POST', body });
      done(i18n.sup_saved);
    } catch (err) {
      failed(msg, err);
    }
  });
}

function entryActions(table) {
  table.addEventListener('click', async (e) => {
    const button = e.target.closest('button.publish, button.revoke');
    if (!button) return;
    const publish = button.classList.contains('publish');
    const reason = await confirmed(publish ? i18n.sup_publish_confirm : i18n.sup_revoke_confirm,
      { reason: !publish });
    if (reason === null) return;
    const id = button.dataset.entry;
    try {
      if (publish) await api(`/api/v1/list-entries/${id}/publish`, { method: 'POST' });
      else await api(`/api/v1/list-entries/${id}/revoke`, { method: 'POST', body: { reason } });
      done(i18n.sup_saved);
    } catch (err) {
      const cell = button.closest('td');
      const msg = cell.querySelector('.msg') ?? cell.appendChild(el('span', { class: 'msg', role: 'alert' }));
      failed(msg, err);
    }
  });
}

showFlash();
const setups = [['recompute-form', recompute], ['opinion-form', opinion], ['inspection-form', inspection],
  ['entry-form', entry], ['entries', entryActions]];
for (const [id, setup] of setups) {
  const node = document.getElementById(id);
  if (node) setup(node);
}
