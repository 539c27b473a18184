// Silences: the active, scheduled and recent ones with who set them, until when and what they matched;
// create one (at most 7 days, i.e. 168 hours) for an estate, a building or a device picked by name, and end one
// early with a reason. Scopes read by their names; the registry id is on hover.
import { api, el } from './api.js';
import { change, estateTime, report, t } from './admin_ui.js';

const data = JSON.parse(document.getElementById('adm-data').textContent);
const zoneOf = Object.fromEntries(data.sites.map((s) => [s.id, s.tz]));
const NAMES = {
  site: Object.fromEntries(data.sites.map((s) => [s.id, s.name])),
  building: Object.fromEntries(data.buildings.map((b) => [b.id, b.name])),
  device: Object.fromEntries(data.devices.map((d) => [d.id, d.name])),
};
const scopeName = (type, id) => NAMES[type]?.[id] ?? id;
const PAGE = 50;
let offset = 0;

// The picker: the estate, then (for a building or a device) its building, then (for a device) the device. A
// device outside every building (pump room, fire control room) is found under "estate-wide".
const form = document.getElementById('silence-form');
function fillPicker() {
  const type = form.scope_type.value;
  for (const label of form.querySelectorAll('[data-scopes]')) label.hidden = !label.dataset.scopes.split(' ').includes(type);
  const buildings = data.buildings.filter((b) => b.site_id === form.site.value);
  const kept = form.building.value;
  form.building.replaceChildren(...buildings.map((b) => el('option', { value: b.id }, b.name)),
    ...(type === 'device' ? [el('option', { value: '' }, t('adm_estate_wide'))] : []));
  if ([...form.building.options].some((o) => o.value === kept)) form.building.value = kept;
  fillDevices();
}
function fillDevices() {
  const devices = data.devices.filter((d) => d.site_id === form.site.value && (d.building_id ?? '') === form.building.value);
  form.device.replaceChildren(...devices.map((d) => el('option', { value: d.id }, d.name)));
}
function picked() {
  const type = form.scope_type.value;
  const id = type === 'site' ? form.site.value : type === 'building' ? form.building.value : form.device.value;
  return { type, id, name: scopeName(type, id) };
}
form.scope_type.addEventListener('change', fillPicker);
form.site.addEventListener('change', fillPicker);
form.building.addEventListener('change', fillDevices);
fillPicker();

form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const hours = Number(form.hours.value);
  const result = document.getElementById('silence-result');
  if (!(hours >= 1 && hours <= 168)) { report(result, new Error(t('adm_max_7_days'))); return; }
  const scope = picked();
  if (!scope.id) { report(result, new Error(t('adm_pick_scope'))); return; }
  const now = new Date();
  const body = {
    scope_type: scope.type, scope_id: scope.id, reason: form.reason.value.trim(),
    starts_at: now.toISOString(), ends_at: new Date(now.getTime() + hours * 3600000).toISOString(),
    maintenance: form.maintenance.checked,
  };
  const made = await change(result, t('adm_confirm_silence', { scope: scope.name, hours }),
    () => api('/api/v1/silences', { method: 'POST', body }),
    (s) => t('adm_silenced', { scope: scope.name, until: estateTime(s.ends_at, zoneOf[s.site_id]) }));
  if (made) { form.reset(); fillPicker(); offset = 0; await load(); }
});

// Ending asks for a reason in its own dialog, then the shared confirmation.
async function endEarly(silence) {
  const dialog = document.getElementById('end-dialog');
  const reason = document.getElementById('end-reason');
  document.getElementById('end-question').textContent = t('adm_confirm_end_silence', { scope: scopeName(silence.scope_type, silence.scope_id) });
  reason.value = '';
  dialog.showModal();
  const ok = await new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
  const result = document.getElementById('end-result');
  if (!ok) return;
  if (!reason.value.trim()) { report(result, new Error(t('adm_reason_required'))); return; }
  try {
    await api(`/api/v1/silences/${silence.id}?reason=${encodeURIComponent(reason.value.trim())}`, { method: 'DELETE' });
    report(result, null, t('adm_silence_ended', { scope: scopeName(silence.scope_type, silence.scope_id) }));
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
    el('td', { title: s.scope_id }, `${t(`adm_scope_${s.scope_type}`)} ${scopeName(s.scope_type, s.scope_id)}`, s.maintenance ? el('div', { class: 'adm-tag warn' }, t('adm_maintenance')) : null),
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
