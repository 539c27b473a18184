// Silences: the active, scheduled and recent ones with who set them, until when and what they matched;
// create one (at most 7 days, i.e. 168 hours) and end one early with a reason.
import { api, el } from './api.js';
import { change, estateTime, report, t } from './admin_ui.js';

const data = JSON.parse(document.getElementById('adm-data').textContent);
const zoneOf = Object.fromEntries(data.sites.map((s) => [s.id, s.tz]));
const PAGE = 50;
let offset = 0;

const form = document.getElementById('silence-form');
function fillScopeIds() {
  const options = form.scope_type.value === 'site' ? data.sites.map((s) => [s.id, s.name])
    : form.scope_type.value === 'building' ? data.buildings.map((b) => [b.id, b.name]) : [];
  document.getElementById('scope-ids').replaceChildren(...options.map(([id, name]) => el('option', { value: id }, name)));
}
form.scope_type.addEventListener('change', fillScopeIds);
fillScopeIds();

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const hours = Number(form.hours.value);
  const result = document.getElementById('silence-result');
  if (!(hours >= 1 && hours <= 168)) { report(result, new Error(t('adm_max_7_days'))); return; }
  const now = new Date();
  const body = {
    scope_type: form.scope_type.value, scope_id: form.scope_id.value.trim(), reason: form.reason.value.trim(),
    starts_at: now.toISOString(), ends_at: new Date(now.getTime() + hours * 3600000).toISOString(),
    maintenance: form.maintenance.checked,
  };
  const scope = `${t(`adm_scope_${body.scope_type}`)} ${body.scope_id}`;
  const made = await change(result, t('adm_confirm_silence', { scope, hours }),
    () => api('/api/v1/silences', { method: 'POST', body }), (s) => `${t('adm_done')}: #${s.id}`);
  if (made) { form.reset(); fillScopeIds(); offset = 0; await load(); }
});

// Ending asks for a reason in its own dialog, then the shared confirmation.
async function endEarly(silence) {
  const dialog = document.getElementById('end-dialog');
  const reason = document.getElementById('end-reason');
  document.getElementById('end-question').textContent = t('adm_confirm_end_silence', { id: silence.id });
  reason.value = '';
  dialog.showModal();
  const ok = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
  const result = document.getElementById('end-result');
  if (!ok) return;
  if (!reason.value.trim()) { report(result, new Error(t('adm_reason_required'))); return; }
  try {
    await api(`/api/v1/silences/${silence.id}?reason=${encodeURIComponent(reason.value.trim())}`, { method: 'DELETE' });
    report(result, null, `${t('adm_done')}: #${silence.id} ${t('adm_sil_ended')}`);
    await load();
  } catch (error) { report(result, error); }
}

function row(s) {
  const zone = zoneOf[s.site_id] ?? 'Asia/Shanghai';
  const matched = s.matched.map((a) => el('a', { href: `/alarms/${a.id}` }, `#${a.id} ${a.severity} ${a.rule_id}`));
  const ended = s.ended_at ? el('div', { class: 'muted' }, `${t('adm_ended_by')}${s.ended_by} ${estateTime(s.ended_at, zone)}: ${s.end_reason ?? ''}`) : null;
  return el('tr', { 'data-silence': s.id },
    el('td', {}, String(s.id)),
    el('td', { class: `adm-status-${s.status}` }, t(`adm_sil_${s.status}`)),
    el('td', {}, `${t(`adm_scope_${s.scope_type}`)} ${s.scope_id}`, s.maintenance ? el('div', { class: 'adm-tag warn' }, t('adm_maintenance')) : null),
    el('td', {}, s.reason, ended),
    el('td', {}, s.created_by),
    el('td', {}, estateTime(s.ends_at, zone)),
    el('td', {}, String(s.matched_total), ' ', ...matched.flatMap((a) => [a, ' '])),
    el('td', {}, ['active', 'scheduled'].includes(s.status) ? el('button', { class: 'reject', onclick: () => endEarly(s) }, t('adm_end_early')) : null));
}

async function load() {
  const page = await api(`/api/v1/silences?recent_hours=168&limit=${PAGE}&offset=${offset}`);
  document.querySelector('#silences tbody').replaceChildren(...(page.items.length ? page.items.map(row)
    : [el('tr', {}, el('td', { colspan: 8 }, t('adm_none')))]));
  document.getElementById('range').textContent = t('adm_range', { from: page.total ? offset + 1 : 0, to: offset + page.items.length, total: page.total });
  document.getElementById('prev').disabled = offset === 0;
  document.getElementById('next').disabled = offset + PAGE >= page.total;
}
document.getElementById('prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
document.getElementById('next').addEventListener('click', () => { offset += PAGE; load(); });

load().catch((error) => report(document.getElementById('end-result'), error));
