// Rule overrides by form: pick a rule, one of its settings and a value; see what changes; publish this page's
// pack for the estate (its earlier overrides and the new one) through the rule-pack API, which validates it.
import { api, el } from './api.js';
import { change, report, t } from './admin_ui.js';

const data = JSON.parse(document.getElementById('adm-data')?.textContent ?? 'null');
const form = document.getElementById('override-form');
let pending = null; // the pack the diff shows, published as it was shown

// A typed value as YAML reads it: numbers and true/false as such, anything else (30s, P1) as text.
function valueOf(text) {
  const v = text.trim();
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v);
  if (v === 'true' || v === 'false') return v === 'true';
  return v;
}

const settingsOf = (ruleId) => data.rules[data.ids.indexOf(ruleId)];

function fillFields() {
  const settings = settingsOf(form.rule.value);
  form.field.replaceChildren(...Object.keys(settings).map((k) => el('option', { value: k }, t(`adm_set_${k}`))));
  showCurrent();
}
function showCurrent() {
  document.getElementById('ov-current').textContent = settingsOf(form.rule.value)[form.field.value] || '—';
  document.getElementById('ov-diff').hidden = true;
}

// This page's pack for the estate with the setting added to the rule's site override (one entry per rule).
function packWith(rule, field, value) {
  const overrides = structuredClone(data.own);
  const mine = overrides.find((o) => o.rule === rule && o.site === data.site.id);
  if (mine) mine.set = { ...mine.set, [field]: value };
  else overrides.push({ rule, site: data.site.id, set: { [field]: value } });
  return { pack: data.pack, overrides };
}

if (data) {
  form.rule.addEventListener('change', fillFields);
  form.field.addEventListener('change', showCurrent);
  form.value.addEventListener('input', () => { document.getElementById('ov-diff').hidden = true; });
  fillFields();
  document.getElementById('ov-review').addEventListener('click', () => {
    if (!form.value.reportValidity()) return;
    const [rule, field, value] = [form.rule.value, form.field.value, valueOf(form.value.value)];
    pending = packWith(rule, field, value);
    const before = settingsOf(rule)[field] || '—';
    document.getElementById('ov-changes').replaceChildren(el('tr', {}, el('td', {}, data.site.name), el('td', {}, rule),
      el('td', {}, t(`adm_set_${field}`)), el('td', { class: 'from' }, before), el('td', { class: 'to' }, String(value))));
    document.getElementById('ov-text').textContent = JSON.stringify(pending, null, 2);
    document.getElementById('ov-diff').hidden = false;
  });
  document.getElementById('ov-publish').addEventListener('click', async () => {
    const published = await change(document.getElementById('ov-result'), t('adm_confirm_publish'),
      () => api('/api/v1/rule-packs', { method: 'POST', body: { text: JSON.stringify(pending, null, 2) } }),
      (p) => `${t('adm_done')}: ${p.name} v${p.version}`);
    // Reload to show the rules as the estate now has them, and say what was published.
    if (published) window.location.search = new URLSearchParams({ site_id: data.site.id, published: `${published.name} v${published.version}` });
  });
  const published = new URLSearchParams(window.location.search).get('published');
  if (published) report(document.getElementById('ov-result'), null, `${t('adm_done')}: ${published}`);
}
