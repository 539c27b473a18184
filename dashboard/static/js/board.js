// Work-order board: a column per open state with each order's SLA clock of its next due step and escalation level,
// or the closed list (verified, closed, cancelled, false alarm) 50 a page; search and filters kept in the address;
// a count per state under the same filters; live updates from the event stream; verify resolved orders after a
// confirmation; the 12345 / owner-report ticket form.
import { api, el, i18n, live } from './api.js';
import { confirmAction } from './wo_actions.js';
import { refusal } from './refusal.js';
import { dueText, fill, siteTime, zoneOffset } from './wo_clock.js';

const OPEN = ['NEW', 'ACKED', 'DISPATCHED', 'EN_ROUTE', 'ON_SITE', 'IN_PROGRESS', 'ON_HOLD', 'RESOLVED'];
const CLOSED = ['VERIFIED', 'CLOSED', 'CANCELLED', 'FALSE_ALARM'];
const COLUMN_LIMIT = 100;   // cards per column; the count above says how many more match
const PAGE = 50;            // rows a page of the closed list
const POLL_MS = 15000;      // how often a role without the event stream (the committee) re-reads the board
// SLA steps in the order they fall due, with the order's field that stamps each as done.
const STEPS = [['ack', 'acked_at'], ['dispatch', 'dispatched_at'], ['arrive', 'on_site_at'], ['resolve', 'resolved_at']];

const { names, zones, can_act: canAct, live: streams } = JSON.parse(document.getElementById('board-data').textContent);
const board = document.getElementById('board');
const closedBox = document.getElementById('closed');
const filters = document.getElementById('filters');
const errorBox = document.getElementById('error');

// Old links (the alarm page's) name an order as #order-N on the board: open its page.
const linked = location.hash.match(/^#order-(\d+)$/);
if (linked) location.replace(`/work-orders/${linked[1]}`);

// --- what is shown, kept in the address so a reload or a shared link shows the same ---
const FIELDS = ['q', 'site_id', 'category', 'state', 'severity', 'assignee_id', 'from', 'to'];
const query = new URLSearchParams(location.search);
const shown = Object.fromEntries(FIELDS.map((f) => [f, query.get(f) ?? '']));
shown.view = query.get('view') === 'closed' || CLOSED.includes(shown.state) ? 'closed' : 'open';
shown.offset = Number(query.get('offset') || 0);

function remember() {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(shown)) if (value && !(key === 'view' && value === 'open')) params.set(key, value);
  history.replaceState(null, '', `${location.pathname}${params.size ? `?${params}` : ''}`);
}

// The title in the reader's language: the English one where the system wrote one, else the title as stored.
const title = (o) => (document.documentElement.lang === 'en' && o.title_en) || o.title;
const zoneOf = (o) => zones[o.site_id] || 'Asia/Shanghai';
const place = (o) => [names.sites[o.site_id] ?? o.site_id, o.building_unit, o.floor, o.address || names.devices[o.device_id]]
  .filter(Boolean).join(' · ');

// A device's id, or a name only one device has, is searched by device (the API's `q` does not look at devices);
// anything else by number, title, description or address.
function deviceNamed(text) {
  const wanted = text.trim().toLowerCase();
  const devices = Object.entries(names.devices);
  const byId = devices.find(([id]) => id.toLowerCase() === wanted);
  const byName = devices.filter(([, name]) => name.toLowerCase() === wanted);
  return byId?.[0] ?? (byName.length === 1 ? byName[0][0] : undefined);
}

// The estate's midnight of a yyyy-mm-dd date, as an instant with its offset.
function dayStart(day, nextDay = false) {
  const date = new Date(`${day}T00:00:00Z`);
  if (nextDay) date.setUTCDate(date.getUTCDate() + 1);
  const zone = zones[shown.site_id] || Object.values(zones)[0] || 'Asia/Shanghai';
  return `${date.toISOString().slice(0, 10)}T00:00:00${zoneOffset(zone, date).iso}`;
}

function listing(states, limit, offset = 0) {
  const params = new URLSearchParams({ limit, offset });
  for (const s of states) params.append('state', s);
  for (const key of ['site_id', 'category', 'severity', 'assignee_id']) if (shown[key]) params.set(key, shown[key]);
  if (shown.q) {
    const device = deviceNamed(shown.q);
    params.set(device ? 'device_id' : 'q', device ?? shown.q.trim());
  }
  if (shown.from) params.set('created_since', dayStart(shown.from));
  if (shown.to) params.set('created_until', dayStart(shown.to, true));
  return api(`/api/v1/work-orders?${params}`);
}

// --- the next SLA step still running: its deadline ---
function nextDue(o) {
  for (const [step, stamp] of STEPS) if (o.due?.[step] && !o[stamp]) return { step, at: o.due[step] };
  return null;
}

function card(o) {
  const next = nextDue(o);
  const actions = [];
  if (canAct && o.state === 'RESOLVED') {
    actions.push(el('button', { type: 'button', class: 'verify primary', onclick: async () => {
      if (await confirmAction(o, 'verify')) refresh();
    } }, i18n.verify));
  }
  return el('article', { class: `wo sev-${o.severity} ${o.escalation_level > 0 ? 'escalated' : ''}`, 'data-order-id': o.id },
    el('header', {}, el('span', { class: `badge ${o.severity}` }, o.severity), ' ',
      el('a', { href: `/work-orders/${o.id}`, class: 'wo-number' }, o.number),
      o.escalation_level > 0 ? el('span', { class: 'esc' }, ` ${fill(i18n.wo_escalation, { n: o.escalation_level })}`) : null),
    el('p', { class: 'wo-title' }, title(o)),
    names.categories[o.category] === title(o) ? null : el('small', { class: 'wo-meta' }, names.categories[o.category] ?? o.category),
    el('small', { class: 'wo-meta' }, place(o)),
    el('small', { class: 'wo-meta' }, names.crew[o.assignee_id] ?? (o.assignee_id || `${names.units[o.unit_id] ?? o.unit_id}`)),
    next ? el('span', { class: 'timer', 'data-due': next.at, 'data-step': next.step }) : null,
    actions);
}

function renderBoard(columns) {
  const states = shown.state ? OPEN.filter((s) => s === shown.state) : OPEN;
  board.style.setProperty('--columns', states.length);
  board.replaceChildren(...states.map((state) => {
    const { items, total } = columns[state];
    return el('section', { class: 'column', 'data-state': state },
      el('h2', {}, `${i18n.states[state]} `, el('span', { class: 'num' }, String(total))),
      items.length ? items.map(card) : el('p', { class: 'muted' }, i18n.wo_none),
      total > items.length ? el('p', { class: 'muted' }, fill(i18n.wo_more, { n: total - items.length })) : null);
  }));
  tick();
}

function renderClosed(page) {
  const tbody = closedBox.querySelector('tbody');
  tbody.replaceChildren(...page.items.map((o) => el('tr', { 'data-order-id': o.id, 'data-state': o.state },
    el('td', {}, el('a', { href: `/work-orders/${o.id}` }, o.number)),
    el('td', {}, title(o)),
    el('td', {}, names.categories[o.category] ?? o.category),
    el('td', { class: 'state' }, i18n.states[o.state]),
    el('td', {}, names.sites[o.site_id] ?? o.site_id),
    el('td', {}, siteTime(o.created_at, zoneOf(o))),
    el('td', {}, siteTime(o.closed_at ?? o.resolved_at, zoneOf(o)) || '—'),
    el('td', {}, names.crew[o.assignee_id] ?? (o.assignee_id || '—')),
    el('td', { class: 'num' }, o.cost_total))));
  document.getElementById('closed-empty').hidden = page.total > 0;
  const to = Math.min(page.offset + page.items.length, page.total);
  document.getElementById('range').textContent = page.total
    ? fill(i18n.range_of, { from: page.offset + 1, to, total: page.total }) : '';
  document.getElementById('prev').disabled = page.offset === 0;
  document.getElementById('next').disabled = to >= page.total;
}

function renderCounts(counts) {
  for (const [state, total] of Object.entries(counts)) {
    const cell = document.querySelector(`#counts [data-count="${state}"]`);
    cell.textContent = String(total);
    cell.closest('button').classList.toggle('on', shown.state === state);
  }
}

function tick() {
  for (const timer of board.querySelectorAll('.timer')) {
    const { text, overdue } = dueText(timer.dataset.due, timer.dataset.step);
    timer.textContent = text;
    timer.classList.toggle('overdue', overdue);
  }
}

// --- loading: one listing per state gives its column (open) or its count (closed), the closed page apart ---
let loading = null;
let again = false;

async function load() {
  const closedStates = shown.state && CLOSED.includes(shown.state) ? [shown.state] : CLOSED;
  const [opened, ended, page] = await Promise.all([
    // The closed view needs only the open states' counts, not their cards.
    Promise.all(OPEN.map((s) => listing([s], shown.view === 'open' ? COLUMN_LIMIT : 1))),
    Promise.all(CLOSED.map((s) => listing([s], 1))),
    shown.view === 'closed' ? listing(closedStates, PAGE, shown.offset) : null,
  ]);
  const columns = Object.fromEntries(OPEN.map((s, i) => [s, opened[i]]));
  const counts = Object.fromEntries([...OPEN.map((s, i) => [s, opened[i].total]), ...CLOSED.map((s, i) => [s, ended[i].total])]);
  renderCounts(counts);
  board.hidden = shown.view !== 'open';
  closedBox.hidden = shown.view !== 'closed';
  if (shown.view === 'open') renderBoard(columns);
  else {
    board.replaceChildren();  // no stale cards under filters they no longer match
    renderClosed(page);
  }
  board.dataset.loaded = closedBox.dataset.loaded = String(Date.now());
}

// Events come in bursts: one reload at a time, and one more after it if anything arrived meanwhile.
async function refresh() {
  if (loading) { again = true; return; }
  loading = load()
    .then(() => { errorBox.hidden = true; })
    .catch((err) => { errorBox.textContent = refusal(err); errorBox.hidden = false; });
  await loading;
  loading = null;
  if (again) { again = false; refresh(); }
}

// --- controls ---
function showView(view) {
  shown.view = view;
  shown.offset = 0;
  if (view === 'open' && CLOSED.includes(shown.state)) shown.state = '';
  if (view === 'closed' && OPEN.includes(shown.state)) shown.state = '';
  filters.elements.state.value = shown.state;
  for (const tab of document.querySelectorAll('#views [data-view]')) {
    tab.classList.toggle('on', tab.dataset.view === view);
    tab.setAttribute('aria-selected', String(tab.dataset.view === view));
  }
  remember();
  refresh();
}

for (const field of FIELDS) filters.elements[field].value = shown[field];
let typing;
filters.addEventListener('input', (event) => {
  clearTimeout(typing);
  typing = setTimeout(() => {
    for (const field of FIELDS) shown[field] = filters.elements[field].value;
    shown.offset = 0;
    if (event.target.name === 'state' && shown.state) showView(CLOSED.includes(shown.state) ? 'closed' : 'open');
    else { remember(); refresh(); }
  }, event.target.name === 'q' ? 300 : 0);
});
filters.addEventListener('submit', (event) => event.preventDefault());
filters.addEventListener('reset', () => setTimeout(() => {
  for (const field of FIELDS) shown[field] = '';
  showView(shown.view);
}));
for (const tab of document.querySelectorAll('#views [data-view]')) tab.addEventListener('click', () => showView(tab.dataset.view));
for (const chip of document.querySelectorAll('#counts [data-state]')) {
  chip.addEventListener('click', () => {
    const state = shown.state === chip.dataset.state ? '' : chip.dataset.state;
    shown.state = state;
    filters.elements.state.value = state;
    showView(CLOSED.includes(state) ? 'closed' : 'open');
  });
}
document.getElementById('prev').addEventListener('click', () => { shown.offset = Math.max(0, shown.offset - PAGE); remember(); refresh(); });
document.getElementById('next').addEventListener('click', () => { shown.offset += PAGE; remember(); refresh(); });

// A mainland call-back number (the API's rule, dispatch.complaints): a mobile, or a landline with its area code.
const PHONE = /^(?:(?:\+?86)?1[3-9]\d{9}|0\d{2,3}\d{7,8}(?:#\d{1,6})?)$/;

// What the form lacks, said in the reader's language with the field to fix; null when it can be sent.
function missing(form, body) {
  if (!body.category) return [form.elements.category, i18n.wo_pick_category];
  const phone = body.reporter_contact.trim();
  if (phone && !PHONE.test(phone.replace(/[\s()（）-]/g, ''))) return [form.elements.reporter_contact, i18n.err_InvalidPhone];
  return null;
}

document.getElementById('ticket-form')?.addEventListener('submit', async (e) => {
  e.preventDefault();
  const { ticket_no: ticketNo, reply_due: replyDue, ...body } = Object.fromEntries(new FormData(e.target).entries());
  const msg = document.getElementById('ticket-msg');
  for (const field of e.target.querySelectorAll('[aria-invalid]')) field.removeAttribute('aria-invalid');
  const lack = missing(e.target, body);
  if (lack) {
    const [field, message] = lack;
    field.setAttribute('aria-invalid', 'true');
    field.focus();
    msg.textContent = message;
    return;
  }
  if (body.origin === 'hotline_12345') {
    body.hotline = { ticket_no: ticketNo, received_at: new Date().toISOString(),
      reply_due: replyDue ? new Date(replyDue).toISOString() : null };
  }
  try {
    const order = await api('/api/v1/work-orders', { method: 'POST', body });
    msg.textContent = `✓ ${order.number}`;
    e.target.reset();
    refresh();
  } catch (err) { msg.textContent = refusal(err); }
});

if (!linked) {
  showView(shown.view);
  setInterval(tick, 1000);
  if (streams) live(() => refresh());
  else setInterval(refresh, POLL_MS);
}
