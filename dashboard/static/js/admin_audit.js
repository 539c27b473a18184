// The audit trail: filter by person, action (a whole family or one action, picked by name), object and time
// range; 50 a page, newest first; each time in its estate's zone (the first estate's for changes to no estate).
// Filters live in the address, so a filtered view can be linked. Each entry reads as a sentence (who, in which
// role, did what to which object, the object by its name: a work order's number, a booking's service and home)
// with the detail fields that matter named in the reader's language; codes and ids are in the raw record behind
// a toggle.
import { api, el, i18n } from './api.js';
import { estateTime, fromEstateTime, report, t, zoneMarker } from './admin_ui.js';

const data = JSON.parse(document.getElementById('adm-data').textContent);
const site = Object.fromEntries(data.sites.map((s) => [s.id, s]));
const ZONE = data.sites[0]?.tz ?? 'Asia/Shanghai';
const FIELDS = ['actor', 'action', 'target_type', 'target_id', 'since', 'until'];
const PAGE = 50;
const form = document.getElementById('audit-form');
const query = new URLSearchParams(window.location.search);
let offset = Number(query.get('offset') || 0);

document.getElementById('zone').textContent = `${ZONE}, ${zoneMarker(new Date(), ZONE)}`;
for (const f of FIELDS) if (query.get(f)) form[f].value = query.get(f);

function params() {
  const p = new URLSearchParams({ limit: String(PAGE), offset: String(offset) });
  for (const f of FIELDS) {
    const v = form[f].value.trim();
    if (v) p.set(f, f === 'since' || f === 'until' ? fromEstateTime(v, ZONE) : v);
  }
  return p;
}

// A code by its translated name (`adm_act_auth.login`, `adm_obj_sign_in`, `adm_role_admin`), or as it is.
const named = (kind, code) => (i18n[`adm_${kind}_${code}`] ? t(`adm_${kind}_${code}`) : code);

// How each detail field the summary names reads, in this order (labels `adm_f_<field>`). Fields not listed
// (ids, codes, lists of field names) are in the raw record only: shown bare they would be codes, not words.
const TEXT = (v) => String(v);
const READ = {
  reason: TEXT, comment: TEXT, note: TEXT, name: TEXT, title: TEXT, assignee: TEXT,
  device_id: (v, d, names) => names[`device:${v}`] ?? String(v),
  scope_id: (v, d, names) => names[`${d.scope_type}:${v}`] ?? String(v),
  ticket_no: TEXT, source: TEXT, changes: TEXT, base_version: TEXT, version: TEXT, year: TEXT, price: TEXT,
  actual_cost: TEXT, rating: TEXT, score: TEXT,
  role: (v) => named('role', v),
  site_ids: (v) => (Array.isArray(v) ? v.map((id) => site[id]?.name ?? id).join('、') : null),
  starts_at: 'time', ends_at: 'time', first_due: 'time',
  published: 'yesno', approved: 'yesno', quorum_met: 'yesno',
};
// The objects an entry names by id, as `kind:id` references the server names (/admin/audit/names): its target,
// the scope of a silence or draw, a device, and the crew members a work order passed between.
const CREW_CHANGES = new Set(['work_order.assign', 'work_order.accept']);
function references(e) {
  const d = e.detail ?? {};
  const refs = [`${e.target_type}:${e.target_id}`];
  if (d.scope_type && d.scope_id) refs.push(`${d.scope_type}:${d.scope_id}`);
  if (d.device_id) refs.push(`device:${d.device_id}`);
  if (CREW_CHANGES.has(e.action)) refs.push(...[d.from, d.to].filter(Boolean).map((id) => `crew_member:${id}`));
  return refs;
}
async function namesOf(items) {
  const refs = [...new Set(items.flatMap(references))];
  if (!refs.length) return {};
  const query = new URLSearchParams(refs.map((r) => ['ref', r]));
  return api(`/admin/audit/names?${query}`).catch(() => ({}));
}

function fields(e, zone, names) {
  const detail = e.detail ?? {};
  // A before or after value: a work-order state or a crew member by name, nothing as a dash.
  const side = (v) => (v === null || v === undefined || v === '' ? '—'
    : data.states[v] ?? (CREW_CHANGES.has(e.action) ? names[`crew_member:${v}`] : null) ?? String(v));
  const shown = [];
  if ('from' in detail || 'to' in detail) shown.push(['change', `${side(detail.from)} → ${side(detail.to)}`]);
  for (const [key, read] of Object.entries(READ)) {
    const v = detail[key];
    if (v === null || v === undefined || v === '' || typeof v === 'object' && !Array.isArray(v)) continue;
    const text = read === 'time' ? estateTime(v, zone) : read === 'yesno' ? t(v ? 'adm_yes' : 'adm_no') : read(v, detail, names);
    if (text) shown.push([key, text]);
  }
  return shown;
}

// Who did what to which object. A sign-in names no object: the person is the one signing in.
function sentence(e, names) {
  const words = { actor: e.actor, role: named('role', e.role), action: named('act', e.action) };
  if (e.target_type === 'sign_in') return t('adm_summary_self', words);
  const name = names[`${e.target_type}:${e.target_id}`];
  return t('adm_summary_line', { ...words, object: `${named('obj', e.target_type)} ${name ?? `#${e.target_id}`}` });
}

function summary(e, zone, names) {
  const shown = fields(e, zone, names);
  const raw = { action: e.action, target_type: e.target_type, target_id: e.target_id, detail: e.detail ?? {} };
  return el('td', { class: 'adm-summary' },
    el('p', { class: 'adm-sentence' }, sentence(e, names)),
    shown.length ? el('dl', { class: 'adm-fields' }, ...shown.flatMap(([key, text]) => [el('dt', {}, t(`adm_f_${key}`)), el('dd', {}, text)])) : '',
    el('details', { class: 'adm-raw' }, el('summary', {}, t('adm_raw')), el('pre', { class: 'adm-json' }, JSON.stringify(raw, null, 2))));
}

async function load() {
  const page = await api(`/api/v1/audit?${params()}`);
  const names = await namesOf(page.items);
  const zoneOf = (e) => site[e.site_id]?.tz ?? ZONE;
  document.querySelector('#audit tbody').replaceChildren(...(page.items.length ? page.items.map((e) => el('tr', { 'data-action': e.action },
    el('td', { class: 'adm-when' }, estateTime(e.at, zoneOf(e))), summary(e, zoneOf(e), names),
    el('td', {}, site[e.site_id]?.name ?? e.site_id ?? '')))
    : [el('tr', {}, el('td', { colspan: 3 }, t('adm_none')))]));
  document.getElementById('range').textContent = t('adm_range', { from: page.total ? offset + 1 : 0, to: offset + page.items.length, total: page.total });
  document.getElementById('prev').disabled = offset === 0;
  document.getElementById('next').disabled = offset + PAGE >= page.total;
  const shown = new URLSearchParams();
  for (const f of FIELDS) if (form[f].value.trim()) shown.set(f, form[f].value.trim());
  if (offset) shown.set('offset', String(offset));
  history.replaceState(null, '', `?${shown}`);
}

const show = () => load().catch((error) => report(document.getElementById('audit-result'), error));
form.addEventListener('submit', (event) => { event.preventDefault(); offset = 0; show(); });
document.getElementById('prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); show(); });
document.getElementById('next').addEventListener('click', () => { offset += PAGE; show(); });
show();
