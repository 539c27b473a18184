// The audit trail: filter by person, action (a whole action or its family), object and time range; 50 a page,
// newest first; each time in its estate's zone (the first estate's for changes to no estate). Filters live in
// the address, so a filtered view can be linked.
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

const ISO = /^\d{4}-\d\d-\d\dT\d\d:\d\d/;
function detailText(detail, zone) {
  const shown = (v) => (typeof v === 'object' && v !== null ? JSON.stringify(v) : ISO.test(String(v)) ? estateTime(v, zone) : v);
  return Object.entries(detail ?? {}).map(([k, v]) => `${k}: ${shown(v)}`).join('; ');
}

async function load() {
  const page = await api(`/api/v1/audit?${params()}`);
  document.querySelector('#audit tbody').replaceChildren(...(page.items.length ? page.items.map((e) => el('tr', { 'data-action': e.action },
    el('td', {}, estateTime(e.at, site[e.site_id]?.tz ?? ZONE)), el('td', {}, e.actor), el('td', {}, named('role', e.role)),
    el('td', {}, named('act', e.action), ' ', el('code', {}, e.action)), el('td', {}, `${named('obj', e.target_type)} ${e.target_id}`),
    el('td', {}, site[e.site_id]?.name ?? e.site_id ?? ''), el('td', {}, el('code', { class: 'adm-json' }, detailText(e.detail, site[e.site_id]?.tz ?? ZONE)))))
    : [el('tr', {}, el('td', { colspan: 7 }, t('adm_none')))]));
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
