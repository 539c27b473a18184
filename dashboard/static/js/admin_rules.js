// Rule overrides by form: pick a rule, one of its settings and a value; the value is checked by the setting's
// type at the field; the server reviews the pack with the validator publishing uses, and only then does the page
// show what changes and offer to publish this page's pack for the estate (its earlier overrides and the new one).
import { api, el } from './api.js';
import { confirmed, report, t } from './admin_ui.js';

const data = JSON.parse(document.getElementById('adm-data')?.textContent ?? 'null');
const form = document.getElementById('override-form');
const diff = document.getElementById('ov-diff');
const result = document.getElementById('ov-result');
const fieldError = document.getElementById('ov-value-error');
let pending = null; // the pack the diff shows, published as it was shown

// What each type of setting accepts, as the pack reader (rules/checker.py) reads it, and the words for a value
// that does not fit. A level relative to a device attribute is written in a pack, not in this form.
const DURATION = /^\d+(\.\d+)?\s*(ms|s|m|h|d)?$/;
const NUMBER = /^-?\d+(\.\d+)?$/;
const ACCEPTS = {
  duration: (v) => DURATION.test(v),
  number: (v) => NUMBER.test(v),
  level: (v) => NUMBER.test(v),
  bool: (v) => v === 'true' || v === 'false',
  severity: (v) => /^P[0-3]$/.test(v),
};

// A typed value as the pack reader takes it: numbers and true/false as such, anything else (30s, P1) as text.
function valueOf(text, type) {
  const v = text.trim();
  if (type === 'bool') return v === 'true';
  if (NUMBER.test(v) && type !== 'severity') return Number(v);
  return v;
}

const indexOf = (ruleId) => data.ids.indexOf(ruleId);
const settingsOf = (ruleId) => data.rules[indexOf(ruleId)];
const typeOf = (ruleId, key) => data.types[indexOf(ruleId)][key] ?? 'number';
const titleOf = (ruleId) => data.titles[indexOf(ruleId)] ?? ruleId;

function hideReview() {
  diff.hidden = true;
  result.hidden = true;
  pending = null;
}

function fillFields() {
  const settings = settingsOf(form.rule.value);
  form.field.replaceChildren(...Object.keys(settings).map((k) => el('option', { value: k }, t(`adm_set_${k}`))));
  showCurrent();
}
function showCurrent() {
  document.getElementById('ov-current').textContent = settingsOf(form.rule.value)[form.field.value] || '—';
  form.value.placeholder = t(`adm_hint_${typeOf(form.rule.value, form.field.value)}`);
  markValue('');
  hideReview();
}

// The refusal of a value at its field, in words (empty: the value is fine).
function markValue(message) {
  form.value.setCustomValidity(message);
  fieldError.hidden = !message;
  fieldError.textContent = message;
}

// This page's pack for the estate with the setting added to the rule's site override (one entry per rule).
function packWith(rule, field, value) {
  const overrides = structuredClone(data.own);
  const mine = overrides.find((o) => o.rule === rule && o.site === data.site.id);
  if (mine) mine.set = { ...mine.set, [field]: value };
  else overrides.push({ rule, site: data.site.id, set: { [field]: value } });
  return { pack: data.pack, overrides };
}

// Why the server refused the pack, in words: the rule by its title, the setting by its name and the kind of
// problem; the validator's English sentence stays one click away for whoever needs the detail.
function why(message) {
  if (message.startsWith('expected a duration')) return t('adm_bad_duration');
  if (message.startsWith('expected a number')) return t('adm_bad_number');
  if (message.startsWith('expected one of')) return t('adm_bad_severity');
  if (/'clear' .*(must be|is on the wrong side)/.test(message)) return t('adm_bad_clear_side');
  return t('adm_bad_other');
}
function problemLine(problem, pack) {
  const at = problem.path.match(/^overrides\[(\d+)\]\.set\.(\w+)$/);
  const override = at ? pack.overrides[Number(at[1])] : null;
  const words = override
    ? t('adm_problem', { rule: titleOf(override.rule), setting: t(`adm_set_${at[2]}`), why: why(problem.message) })
    : t('adm_problem_pack');
  return el('li', {}, words, ' ', el('details', { class: 'adm-raw' }, el('summary', {}, t('adm_english_detail')),
    el('code', { class: 'adm-json' }, `${problem.path}: ${problem.message}`)));
}
function showProblems(problems, pack) {
  result.hidden = false;
  result.className = 'adm-result error';
  result.replaceChildren(el('p', {}, t('adm_refused')), el('ul', { class: 'adm-problems' }, ...problems.map((p) => problemLine(p, pack))));
}

async function review() {
  const [rule, field] = [form.rule.value, form.field.value];
  const text = form.value.value.trim();
  const type = typeOf(rule, field);
  markValue(ACCEPTS[type](text) ? '' : t(`adm_bad_${type}`));
  if (!form.value.reportValidity()) return;
  const value = valueOf(text, type);
  const pack = packWith(rule, field, value);
  try {
    const answer = await api('/api/v1/rule-packs/review', { method: 'POST', body: { text: JSON.stringify(pack, null, 2) } });
    if (answer.problems.length) { showProblems(answer.problems, pack); return; }
  } catch (error) { report(result, error); return; }
  pending = pack;
  result.hidden = true;
  const before = settingsOf(rule)[field] || '—';
  document.getElementById('ov-changes').replaceChildren(el('tr', {}, el('td', {}, data.site.name),
    el('td', {}, titleOf(rule), el('div', { class: 'muted' }, rule)),
    el('td', {}, t(`adm_set_${field}`)), el('td', { class: 'from' }, before), el('td', { class: 'to' }, String(value))));
  document.getElementById('ov-text').textContent = JSON.stringify(pending, null, 2);
  diff.hidden = false;
}

async function publish() {
  if (!pending || !(await confirmed(t('adm_confirm_publish')))) return;
  try {
    const published = await api('/api/v1/rule-packs', { method: 'POST', body: { text: JSON.stringify(pending, null, 2) } });
    // Reload to show the rules as the estate now has them, and say what was published.
    window.location.search = new URLSearchParams({ site_id: data.site.id, published: String(published.version) });
  } catch (error) {
    if (error.details?.problems) showProblems(error.details.problems, pending);
    else report(result, error);
  }
}

if (data) {
  form.rule.addEventListener('change', fillFields);
  form.field.addEventListener('change', showCurrent);
  form.value.addEventListener('input', () => { markValue(''); hideReview(); });
  fillFields();
  document.getElementById('ov-review').addEventListener('click', review);
  document.getElementById('ov-publish').addEventListener('click', publish);
  const version = new URLSearchParams(window.location.search).get('published');
  if (version) report(result, null, t('adm_published', { estate: data.site.name, version }));
}
