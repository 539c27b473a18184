// Responsibility list (权责清单): a table for the control room; for admins a form per item (category, who
// handles it, its limits and escalation), rows added and removed, reviewed against the loaded version by the API
// (its problems or its changes shown), then saved from that version (a save after someone else's is refused).
import { api, el, i18n, lang } from './api.js';
import { change, report, send, t } from './admin_ui.js';

const body = document.querySelector('#resp-table tbody');
const status = document.getElementById('resp-status');
const editor = Boolean(document.getElementById('resp-editor'));
const LIMITS = ['ack', 'arrive', 'resolve'];
const DURATION = '\\s*[1-9][0-9]*\\s*[smhd]\\s*';
// The column each field of a row sits under, which also names the field for assistive technology.
const COLUMN = {
  category: 'adm_category', component: 'adm_component', site: 'adm_site_scope', unit: 'adm_handler', ack: 'adm_ack_limit',
  arrive: 'adm_arrive_limit', resolve: 'adm_resolve_limit', escalation: 'adm_escalation_order', sop: 'adm_sop', source: 'adm_source',
};
const categoryNames = JSON.parse(document.getElementById('resp-category-names').textContent);

let loaded = null; // the GET answer the edit started from
let reviewed = null; // the document last reviewed without problems

const escalationText = (levels) => (levels ?? []).map((level) => level.join(', ')).join(' > ');
const escalationOf = (text) => text.split('>').map((level) => level.split(/[,，]/).map((u) => u.trim()).filter(Boolean)).filter((l) => l.length);

const categoryName = (id) => categoryNames[id] ?? id;
const componentName = (id) => i18n[`adm_comp_${id}`] ?? id ?? '';
const AND = lang === 'en' ? ', ' : '、';

function readOnlyRow(item) {
  return el('tr', {}, el('td', { 'data-category': item.category }, categoryName(item.category)),
    el('td', { 'data-component': item.component ?? '' }, componentName(item.component)), el('td', {}, item.site ?? '*'),
    el('td', {}, unitName(item.unit)), ...LIMITS.map((k) => el('td', {}, item.sla?.[k] ?? '')),
    el('td', {}, (item.escalation ?? []).map((level) => level.map(unitName).join(AND)).join(' → ')));
}

// A unit's name in the page's language (its Chinese name where the list gives no English one).
function unitName(id) {
  const unit = loaded?.units.find((u) => u.id === id);
  return (lang === 'en' ? unit?.name_en || unit?.name : unit?.name) ?? id;
}

function input(name, value, attrs = {}) { return el('input', { name, value: value ?? '', 'aria-label': t(COLUMN[name]), ...attrs }); }

// One editable row; the item it came from rides along, so fields the form does not show are kept as they were.
function editRow(item, isNew = false) {
  const units = loaded.units.map((u) => el('option', { value: u.id, selected: u.id === item.unit }, `${unitName(u.id)} (${u.id})`));
  const category = input('category', item.category, { required: true, list: 'resp-categories' });
  const named = el('span', { class: 'muted adm-name' }, item.category ? categoryName(item.category) : '');
  category.addEventListener('input', () => { named.textContent = categoryName(category.value.trim()); });
  const row = el('tr', { class: isNew ? 'adm-new' : '' },
    el('td', {}, category, named),
    el('td', {}, input('component', item.component)),
    el('td', {}, input('site', item.site ?? '*', { list: 'resp-sites' })),
    el('td', {}, el('select', { name: 'unit', required: true, 'aria-label': t(COLUMN.unit) }, ...units)),
    ...LIMITS.map((k) => el('td', {}, input(k, item.sla?.[k], { pattern: DURATION, placeholder: '30m', size: 4 }))),
    el('td', {}, input('escalation', escalationText(item.escalation), { required: true })),
    el('td', { class: 'sop' }, el('textarea', { name: 'sop', rows: 2, required: true, 'aria-label': t(COLUMN.sop) }, item.sop ?? '')),
    el('td', { class: 'sop' }, el('textarea', { name: 'source', rows: 2, required: true, 'aria-label': t(COLUMN.source) }, item.source ?? '')),
    el('td', {}, el('button', { type: 'button', class: 'reject', title: t('adm_remove_row'), onclick: () => { row.remove(); stale(); } }, '×')));
  row.item = item;
  row.addEventListener('input', stale);
  return row;
}

// The item a row stands for: its original with the form's fields laid over (an emptied field is left out).
function itemOf(row) {
  const value = (name) => row.querySelector(`[name=${name}]`).value.trim();
  const item = structuredClone(row.item);
  for (const key of ['category', 'component', 'unit', 'sop', 'source']) {
    if (value(key)) item[key] = value(key); else delete item[key];
  }
  if (value('site') && value('site') !== '*') item.site = value('site'); else delete item.site;
  item.sla = { ...(item.sla ?? {}) };
  for (const k of LIMITS) { if (value(k)) item.sla[k] = value(k); else delete item.sla[k]; }
  item.escalation = escalationOf(value('escalation'));
  return item;
}

function documentOf() {
  return { ...loaded.body, items: [...body.rows].map(itemOf) };
}

// Any edit after a review needs a new review before saving.
function stale() {
  reviewed = null;
  const save = document.getElementById('resp-save');
  if (save) save.disabled = true;
}

async function load() {
  loaded = await api('/api/v1/responsibility');
  document.getElementById('resp-version').textContent = t(editor ? 'adm_loaded_version' : 'adm_version_n', { v: loaded.version ?? '—' });
  document.getElementById('resp-categories').replaceChildren(
    ...[...new Set([...Object.keys(categoryNames), ...loaded.items.map((i) => i.category)])].map((c) => el('option', { value: c }, categoryName(c))));
  body.replaceChildren(...loaded.items.map((item) => (editor ? editRow(item) : readOnlyRow(item))));
  if (editor) { document.getElementById('resp-diff').hidden = true; stale(); }
}

function shown(value) {
  if (value === undefined || value === null) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

// A change of a mapping (the limits) as one line per limit that changed: "sla.arrive 30m → 20m".
function expand(field, d) {
  const mapping = (v) => v && typeof v === 'object' && !Array.isArray(v);
  if (!mapping(d.from) || !mapping(d.to)) return [[field, d]];
  return [...new Set([...Object.keys(d.from), ...Object.keys(d.to)])]
    .filter((k) => shown(d.from[k]) !== shown(d.to[k]))
    .map((k) => [`${field}.${k}`, { from: d.from[k], to: d.to[k] }]);
}

// A schema problem names its item by JSON path ("items/26/sla: …"): say which row of the form that is, and mark it.
function rowOf(problem) {
  const match = problem.match(/^items\/(\d+)/);
  if (!match) return problem;
  body.rows[Number(match[1])]?.classList.add('adm-problem');
  return `${t('adm_row', { n: Number(match[1]) + 1 })} ${problem}`;
}

function showReview(review) {
  document.getElementById('resp-diff').hidden = false;
  for (const row of body.rows) row.classList.remove('adm-problem');
  document.getElementById('resp-problems').replaceChildren(...review.problems.map((p) => el('li', {}, rowOf(p))));
  const rows = review.changes.flatMap((c) => {
    const fields = Object.entries(c.fields).flatMap(([field, d]) => expand(field, d));
    const label = el('td', {}, el('span', { class: 'adm-tag' }, t(`adm_op_${c.op}`)));
    if (!fields.length) return [el('tr', {}, label, el('td', {}, c.key), el('td', {}), el('td'), el('td'))];
    return fields.map(([field, d]) => el('tr', { 'data-change': `${c.key}:${field}` }, label.cloneNode(true), el('td', {}, c.key),
      el('td', {}, field), el('td', { class: 'from' }, shown(d.from)), el('td', { class: 'to' }, shown(d.to))));
  });
  if (!rows.length && review.valid) rows.push(el('tr', {}, el('td', { colspan: 5 }, t('adm_no_change'))));
  document.querySelector('#resp-changes tbody').replaceChildren(...rows);
}

if (editor) {
  document.getElementById('resp-add').addEventListener('click', () => {
    const row = editRow({ escalation: [] }, true);
    body.append(row);
    stale();
    row.querySelector('input').focus();
  });
  document.getElementById('resp-reload').addEventListener('click', () => load().catch((e) => report(status, e)));
  document.getElementById('resp-review').addEventListener('click', async () => {
    const invalid = [...body.querySelectorAll('input, select, textarea')].find((f) => !f.checkValidity());
    if (invalid) { invalid.reportValidity(); return; }
    try {
      const doc = documentOf();
      const review = await api('/api/v1/responsibility/review', { method: 'POST', body: { document: doc } });
      showReview(review);
      if (review.problems.length) report(status, new Error(t('adm_problems')));
      else status.hidden = true;
      reviewed = review.valid && review.changes.length ? doc : null;
      document.getElementById('resp-save').disabled = !reviewed;
    } catch (error) { report(status, error); }
  });
  document.getElementById('resp-save').addEventListener('click', async () => {
    if (!reviewed) return;
    const saved = await change(status, t('adm_confirm_save_list'),
      () => send('/api/v1/responsibility', 'PUT', { document: reviewed, base_version: loaded.version })
        .catch((error) => { throw error.status === 409 ? new Error(`${t('adm_stale')} (${error.message})`) : error; }),
      (s) => t('adm_saved_version', { v: s.version }));
    if (saved) { const message = status.textContent; await load(); report(status, null, message); }
  });
}

load().catch((error) => report(status, error));
