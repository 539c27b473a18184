// The audit trail: filter by person, action (a whole action or its family), object and time range; 50 a page,
// newest first; each time in its estate's zone (the first estate's for changes to no estate). Filters live in
// the address, so a filtered view can be linked. Each entry reads as a sentence (who, in which role, did what to
// which object) with the detail fields that matter named in the reader's language, and its raw record behind a
// toggle.
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
  reason: TEXT, comment: TEXT, note: TEXT, name: TEXT, title: TEXT, assignee: TEXT, device_id: TEXT, scope_id: TEXT,
  ticket_no: TEXT, source: TEXT, changes: TEXT, base_version: TEXT, version: TEXT, year: TEXT, price: TEXT,
  actual_cost: TEXT, rating: TEXT, score: TEXT,
  role: (v) => named('role', v),
  site_ids: (v) => (Array.isArray(v) ? v.map((id) => site[id]?.name ?? id).join('、') : null),
  starts_at: 'time', ends_at: 'time', first_due: 'time',
  published: 'yesno', approved: 'yesno', quorum_met: 'yesno',
};
// A before or after value: a work-order state by its name, nothing as a dash.
const side = (v) => (v === null || v === undefined || v === '' ? '—' : data.states[v] ?? String(v));

function fields(detail, zone) {
  const shown = [];
  if ('from' in detail || 'to' in detail) shown.push(['change', `${side(detail.from)} → ${side(detail.to)}`]);
  for (const [key, read] of Object.entries(READ)) {
    const v = detail[key];
    if (v === null || v === undefined || v === '' || typeof v === 'object' && !Array.isArray(v)) continue;
    const text = read === 'time' ? estateTime(v, zone) : read === 'yesno' ? t(v ? 'adm_yes' : 'adm_no') : read(v);
    if (text) shown.push([key, text]);
  }
  return shown;
}

function summary(e, zone) {
  const detail = e.detail ?? {};
  const sentence = t('adm_summary_line', { actor: e.actor, role: named('role', e.role), action: named('act', e.action),
    object: `${named('obj', e.target_type)} ${e.target_id}` });
  const shown = fields(detail, zone);
  return el('td', { class: 'adm-summary' },
    el('p', { class: 'adm-sentence' }, sentence, ' ', el('code', {}, e.action)),
    shown.length ? el('dl', { class: 'adm-fields' }, ...shown.flatMap(([key, text]) => [el('dt', {}, t(`adm_f_${key}`)), el('dd', {}, text)])) : '',
    Object.keys(detail).length ? el('details', { class: 'adm-raw' }, el('summary', {}, t('adm_raw')),
      el('pre', { class: 'adm-json' }, JSON.stringify(detail, null, 2))) : '');
}

async function load() {
  const page = await api(`/api/v1/audit?${params()}`);
  const zoneOf = (e) => site[e.site_id]?.tz ?? ZONE;
  document.querySelector('#audit tbody').replaceChildren(...(page.items.length ? page.items.map((e) => el('tr', { 'data-action': e.action },
    el('td', { class: 'adm-when' }, estateTime(e.at, zoneOf(e))), summary(e, zoneOf(e)),
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
