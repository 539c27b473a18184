// Alarm console (ISA-18.2 style): counts per severity, views and filters kept in the address, 50 rows a page read
// from the API (console=true), devices by name with the id beside, latched alarms marked, acknowledging (one or
// several) only with a comment, a P0 sound that repeats until every P0 is acknowledged (mute for 5 minutes), live
// updates from the event stream.
import { api, el, i18n, lang, live } from './api.js';
import { ask, tell } from './confirm_dialog.js';
import { refusal } from './refusal.js';

const PAGE = 50;
const REPEAT_MS = 4000;           // the P0 sound repeats this often while a P0 is unacknowledged
const MUTE_MS = 5 * 60 * 1000;    // a mute expires after 5 minutes
const MUTE_KEY = 'pw_console_mute_until';

const tbody = document.querySelector('#alarms tbody');
const empty = document.getElementById('empty');
const errorBox = document.getElementById('error');
const dialog = document.getElementById('action-dialog');
const filters = document.getElementById('filters');
const selectAll = document.getElementById('select-all');
const bulkButton = document.getElementById('bulk-ack');
const sound = document.getElementById('sound');
const commentBox = document.getElementById('comment');
const commentError = document.getElementById('comment-error');
const zones = i18n.zones ?? {};
const selected = new Set();
const seen = new Set();
let first = true;
let total = 0;
let audio;
let beeps = 0;
let unackedP0 = 0;

// --- what is shown: view, filters and page, kept in the address so a reload or a shared link shows the same ---
const query = new URLSearchParams(location.search);
const state = {
  view: query.get('view') || 'all', severity: query.get('severity') || '', site_id: query.get('site_id') || '',
  building_id: query.get('building_id') || '', category: query.get('category') || '', q: query.get('q') || '',
  offset: Number(query.get('offset') || 0),
};

function remember() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(state)) if (value && !(key === 'view' && value === 'all')) params.set(key, value);
  history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}`);
}

// --- formatting ---
export function clock(ms) {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 3600) return `${String(Math.floor(s / 60)).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
  return `${Math.floor(s / 3600)}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;
}

function zoneMarker(date, zone) {
  const part = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'shortOffset' })
    .formatToParts(date).find((p) => p.type === 'timeZoneName');
  return (part?.value ?? 'UTC').replace('GMT', 'UTC');
}

function siteTime(iso, siteId) {
  if (!iso) return '';
  const date = new Date(iso);
  const zone = zones[siteId] || 'Asia/Shanghai';
  const text = date.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { timeZone: zone, hour12: false });
  return `${text} ${zoneMarker(date, zone)}`;
}

const title = (a) => (lang === 'en' ? a.title_en || a.title_zh : a.title_zh || a.title_en) || i18n.categories?.[a.category] || '';
const stateKey = (a) => (a.latched ? 'st_latched' : `st_${a.state}`);

// --- sound: repeats while any P0 in scope is unacknowledged, unless muted (the mute expires) ---
function beep() {
  beeps += 1;
  sound.dataset.beeps = String(beeps);
  try {
    audio ??= new AudioContext();
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = 880;
    gain.gain.value = 0.2;
    osc.connect(gain).connect(audio.destination);
    osc.start();
    osc.stop(audio.currentTime + 0.4);
  } catch { /* no audio device */ }
}

function flash() {
  document.body.classList.add('flash');
  setTimeout(() => document.body.classList.remove('flash'), 3000);
}

const mutedFor = () => Math.max(0, Number(localStorage.getItem(MUTE_KEY) || 0) - Date.now());

// A browser lets a page play sound only after a click on it (or an earlier one on this site): until then the
// sound is shown as blocked, with a button that allows it, never as ringing while it is silent.
const blocked = () => {
  try {
    audio ??= new AudioContext();
  } catch { return false; /* no audio device: nothing to allow */ }
  return audio.state === 'suspended';
};
const enable = document.getElementById('enable-sound');
const allowSound = () => { audio?.resume().then(soundTick); };
enable.addEventListener('click', allowSound);
document.addEventListener('pointerdown', allowSound, { once: true });
document.addEventListener('keydown', allowSound, { once: true });

function soundTick() {
  const left = mutedFor();
  const label = document.getElementById('sound-state');
  const button = document.getElementById('mute');
  enable.hidden = !(unackedP0 > 0 && left === 0 && blocked());
  if (unackedP0 > 0 && left > 0) {
    sound.dataset.state = 'muted';
    label.textContent = i18n.muted_for.replace('{t}', clock(left));
  } else if (unackedP0 > 0 && blocked()) {
    sound.dataset.state = 'blocked';
    label.textContent = i18n.sound_blocked;
  } else if (unackedP0 > 0) {
    sound.dataset.state = 'playing';
    label.textContent = i18n.sound_on;
  } else {
    sound.dataset.state = 'off';
    label.textContent = left > 0 ? i18n.muted_for.replace('{t}', clock(left)) : i18n.sound_off;
  }
  button.textContent = left > 0 ? i18n.unmute : i18n.mute_5min;
}

document.getElementById('mute').addEventListener('click', () => {
  if (mutedFor() > 0) localStorage.removeItem(MUTE_KEY);
  else localStorage.setItem(MUTE_KEY, String(Date.now() + MUTE_MS));
  soundTick();
});
setInterval(() => { if (unackedP0 > 0 && mutedFor() === 0) beep(); }, REPEAT_MS);
setInterval(() => {
  soundTick();
  const now = Date.now();
  for (const cell of tbody.querySelectorAll('td.age[data-since]')) cell.textContent = clock(now - new Date(cell.dataset.since));
}, 1000);

// --- dialogs and actions ---
// An acknowledgement needs a comment (the API refuses a blank one): the dialog stays open until it has one, and
// says so in the reader's language; spaces are no comment.
let commentNeeded = false;
function checkComment() {
  const missing = commentNeeded && !commentBox.value.trim();
  commentBox.required = commentNeeded;
  commentBox.setCustomValidity(missing ? i18n.comment_required : '');
  if (!missing) tell(commentError, '');
}
commentBox.addEventListener('input', checkComment);
commentBox.addEventListener('invalid', () => tell(commentError, i18n.comment_required));

async function confirmed(heading, question, { assignee = false, hours = false, comment = false } = {}) {
  const rows = [[document.getElementById('assignee-row'), assignee], [document.getElementById('hours-row'), hours]];
  const answer = ask(dialog, { heading, question, rows, cleared: [commentBox] });
  commentNeeded = comment;
  checkComment();
  return (await answer) === 'ok';
}

const showError = (message) => tell(errorBox, message);

async function act(kind, alarm) {
  const question = i18n.confirm_one.replace('{action}', i18n[kind]).replace('{title}', title(alarm));
  const needs = { assignee: kind === 'assign', hours: kind === 'silence', comment: kind === 'ack' };
  if (!(await confirmed(`${i18n[kind]} · ${title(alarm)}`, question, needs))) return;
  const comment = commentBox.value.trim();
  try {
    if (kind === 'assign') {
      await api(`/api/v1/alarms/${alarm.id}/assign`, { method: 'POST', body: { assignee: document.getElementById('assignee').value, comment } });
    } else if (kind === 'silence') {
      const hours = Number(document.getElementById('hours').value || 2);
      const now = new Date();
      await api('/api/v1/silences', { method: 'POST', body: {
        scope_type: 'device', scope_id: alarm.device_id, starts_at: now.toISOString(),
        ends_at: new Date(now.getTime() + hours * 3600e3).toISOString(), reason: comment || i18n.silence } });
    } else {
      await api(`/api/v1/alarms/${alarm.id}/${kind}`, { method: 'POST', body: { comment } });
    }
    showError('');
  } catch (err) { showError(refusal(err)); }
  await refresh();
}

bulkButton.addEventListener('click', async () => {
  const ids = [...selected];
  if (!ids.length) return;
  if (!(await confirmed(i18n.bulk_ack, i18n.confirm_bulk.replace('{n}', ids.length), { comment: true }))) return;
  const comment = commentBox.value.trim();
  try {
    const done = await api('/api/v1/alarms/ack', { method: 'POST', body: { ids, comment } });
    showError(done.skipped.length ? `${i18n.skipped}: ${done.skipped.map((s) => s.id).join(', ')}` : '');
  } catch (err) { showError(refusal(err)); }
  selected.clear();
  await refresh();
});

// --- rows ---
// A device is shown by its name (1号楼1号电梯) with its id beside it; names are read once per page from the
// registry, after the rows are on screen so the first paint does not wait for them.
const deviceNames = new Map();  // device id -> name, null while asked or when the registry has none

function deviceCell(id) {
  if (!id) return el('td', { class: 'device' }, '');
  const name = deviceNames.get(id);
  return el('td', { class: 'device', 'data-device': id },
    el('a', { href: `/devices/${encodeURIComponent(id)}` }, name || id), name ? ' ' : null,
    name ? el('small', { class: 'device-id muted', title: i18n.dev_id }, id) : null);
}

async function nameDevices(items) {
  const wanted = [...new Set(items.map((a) => a.device_id).filter((id) => id && !deviceNames.has(id)))];
  if (!wanted.length) return;
  for (const id of wanted) deviceNames.set(id, null);
  await Promise.all(wanted.map(async (id) => {
    try {
      deviceNames.set(id, (await api(`/api/v1/devices/${encodeURIComponent(id)}`)).name);
    } catch { /* not in the registry (or out of reach): the id stays */ }
  }));
  for (const cell of tbody.querySelectorAll('td.device[data-device]')) {
    if (deviceNames.get(cell.dataset.device)) cell.replaceWith(deviceCell(cell.dataset.device));
  }
}

function select(id, on) {
  if (on) selected.add(id); else selected.delete(id);
  bulkButton.disabled = selected.size === 0;
  document.getElementById('selected-count').textContent = String(selected.size);
}

function actions(a) {
  if (!i18n.can_act || a.state === 'cleared') return [];  // the sub-district reads the console; only the control room acts
  const buttons = [];
  if (a.state === 'active') buttons.push(el('button', { class: 'ack', onclick: () => act('ack', a) }, i18n.ack));
  buttons.push(el('button', { class: 'assign', onclick: () => act('assign', a) }, i18n.assign));
  if (a.device_id) buttons.push(el('button', { class: 'silence', onclick: () => act('silence', a) }, i18n.silence));
  if (a.clearable) buttons.push(el('button', { class: 'clear', onclick: () => act('clear', a) }, i18n.clear));
  return buttons;
}

function row(a) {
  const buttons = actions(a);
  const box = a.state === 'active' && i18n.can_act
    ? el('input', { type: 'checkbox', class: 'pick', 'aria-label': title(a), checked: selected.has(a.id), onchange: (e) => select(a.id, e.target.checked) })
    : null;
  const shelf = a.shelf
    ? el('small', { class: 'shelf' }, `${i18n.shelved_by} ${a.shelf.by} · ${i18n.until} ${siteTime(a.shelf.until, a.site_id)}`)
    : null;
  const since = a.activated_at || a.first_seen;
  // An open alarm's age runs on; a cleared one's is how long it was open.
  const age = a.cleared_at
    ? el('td', { class: 'age num' }, clock(new Date(a.cleared_at) - new Date(since)))
    : el('td', { class: 'age num', 'data-since': since }, clock(Date.now() - new Date(since)));
  return el('tr', { class: `sev-${a.severity} state-${a.state}`, 'data-alarm-id': a.id, 'data-latched': a.latched ? 'true' : null },
    el('td', {}, box),
    el('td', {}, el('span', { class: `badge ${a.severity}` }, i18n[`sev_${a.severity}`])),
    el('td', { class: 'title' }, el('a', { href: `/alarms/${a.id}` }, title(a)),
      a.assigned_to ? el('small', {}, ` → ${a.assigned_to}`) : null, shelf),
    deviceCell(a.device_id),
    el('td', { class: `state${a.latched ? ' latched' : ''}`, 'data-state': a.latched ? 'latched' : a.state }, i18n[stateKey(a)],
      a.latched ? el('small', { class: 'returned' }, `${i18n.returned_at} ${siteTime(a.returned_at, a.site_id)}`) : null),
    el('td', {}, siteTime(since, a.site_id)),
    age,
    el('td', { class: 'actions' }, buttons));
}

function params() {
  const p = new URLSearchParams({ console: 'true', limit: String(PAGE), offset: String(state.offset) });
  for (const key of ['view', 'severity', 'site_id', 'building_id', 'category', 'q']) if (state[key]) p.set(key, state[key]);
  return p;
}

function showCounts(counts) {
  for (const c of counts) {
    const item = document.querySelector(`#counts li[data-severity="${c.severity}"]`);
    item.querySelector('[data-count="open"]').textContent = String(c.open);
    item.querySelector('[data-count="unacked"]').textContent = String(c.unacked);
    item.classList.toggle('hot', c.unacked > 0);
  }
  unackedP0 = counts.find((c) => c.severity === 'P0')?.unacked ?? 0;
  soundTick();
}

let loading = 0;
async function refresh() {
  const ticket = ++loading;
  const countParams = state.site_id ? `?site_id=${encodeURIComponent(state.site_id)}` : '';
  let page;
  let counts;
  try {
    [page, counts] = await Promise.all([api(`/api/v1/alarms?${params()}`), api(`/api/v1/alarms/counts${countParams}`)]);
  } catch (err) { showError(err.message); return; }
  if (ticket !== loading) return;  // a newer refresh is under way
  if (!page.items.length && state.offset > 0 && page.total > 0) {
    state.offset = Math.max(0, Math.floor((page.total - 1) / PAGE) * PAGE);
    remember();
    await refresh();
    return;
  }
  let newP0 = false;
  for (const a of page.items) {
    if (!seen.has(a.id) && a.severity === 'P0' && a.state === 'active' && !first) newP0 = true;
    seen.add(a.id);
  }
  const shown = new Set(page.items.map((a) => a.id));
  for (const id of [...selected]) if (!shown.has(id)) select(id, false);
  tbody.replaceChildren(...page.items.map(row));
  nameDevices(page.items);
  total = page.total;
  empty.hidden = page.items.length > 0;
  const last = Math.min(state.offset + page.items.length, total);
  document.getElementById('range').textContent = i18n.range
    .replace('{from}', total ? state.offset + 1 : 0).replace('{to}', last).replace('{total}', total);
  document.getElementById('prev').disabled = state.offset === 0;
  document.getElementById('next').disabled = state.offset + PAGE >= total;
  selectAll.checked = false;
  showCounts(counts);
  if (first) {
    // Navigation start to first rows on screen, for the page-speed check (tests/browser/test_alarm_console.py).
    document.body.dataset.consoleReadyMs = String(Math.round(performance.now()));
  }
  first = false;
  if (newP0) { flash(); beep(); }
}

// --- filters, views, paging ---
async function loadBuildings() {
  const select = document.getElementById('f-building');
  select.replaceChildren(el('option', { value: '' }, i18n.all));
  select.disabled = !state.site_id;
  if (!state.site_id) return;
  const buildings = await api(`/api/v1/sites/${encodeURIComponent(state.site_id)}/buildings`);
  for (const b of buildings) select.append(el('option', { value: b.id, selected: b.id === state.building_id }, b.name));
}

function changed() {
  state.offset = 0;
  remember();
  refresh();
}

for (const key of ['severity', 'site_id', 'category']) filters.elements[key].value = state[key];
filters.elements.q.value = state.q;
filters.addEventListener('change', async (e) => {
  const name = e.target.name;
  if (name === 'q') return;
  state[name] = e.target.value;
  if (name === 'site_id') { state.building_id = ''; await loadBuildings(); }
  changed();
});
let typing;
filters.elements.q.addEventListener('input', (e) => {
  clearTimeout(typing);
  typing = setTimeout(() => { state.q = e.target.value.trim(); changed(); }, 250);
});
filters.addEventListener('submit', (e) => e.preventDefault());

function showView() {
  for (const tab of document.querySelectorAll('#views button')) {
    const on = tab.dataset.view === state.view;
    tab.classList.toggle('on', on);
    tab.setAttribute('aria-selected', on ? 'true' : 'false');
  }
}
for (const tab of document.querySelectorAll('#views button')) {
  tab.addEventListener('click', () => { state.view = tab.dataset.view; showView(); changed(); });
}
for (const count of document.querySelectorAll('#counts button.count-filter')) {
  count.addEventListener('click', () => {
    state.severity = state.severity === count.dataset.severity ? '' : count.dataset.severity;
    filters.elements.severity.value = state.severity;
    changed();
  });
}
document.getElementById('prev').addEventListener('click', () => { state.offset = Math.max(0, state.offset - PAGE); remember(); refresh(); });
document.getElementById('next').addEventListener('click', () => { state.offset += PAGE; remember(); refresh(); });
selectAll.addEventListener('change', () => {
  for (const box of tbody.querySelectorAll('input.pick')) {
    box.checked = selectAll.checked;
    select(Number(box.closest('tr').dataset.alarmId), selectAll.checked);
  }
});

showView();
loadBuildings().catch((err) => showError(err.message));
let pending;
live((name) => { if (name !== 'work_order') { clearTimeout(pending); pending = setTimeout(refresh, 150); } });
refresh();
