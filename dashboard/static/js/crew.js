// Crew: my unit's open orders (offers to me first, then the most urgent), live from the event stream; a new
// order chimes and vibrates; what was closed today below. The last list is kept for when the network drops.
import { api, el, i18n, live } from './api.js';
import { dueAttrs, nextDue, say, siteDay, siteTime, tickDue } from './crew_format.js';
import { showSync } from './crew_sync.js';

const list = document.getElementById('orders');
const closed = document.getElementById('closed');
const me = list.dataset.crewMember;
const places = i18n.places ?? {};
const OPEN = ['NEW', 'ACKED', 'DISPATCHED', 'EN_ROUTE', 'ON_SITE', 'IN_PROGRESS', 'ON_HOLD'];
const DONE = ['RESOLVED', 'VERIFIED', 'CLOSED'];
const SEVERITY = { P0: 0, P1: 1, P2: 2, P3: 3 };
const CACHE = 'pw.crew.list';
let known = null;  // ids of the open orders already shown; null until the first load
let audio = null;

const zoneOf = (o) => places.zones?.[o.site_id] || 'Asia/Shanghai';
const query = (states, limit) => `/api/v1/work-orders?limit=${limit}&${states.map((s) => `state=${s}`).join('&')}`;

// Offers waiting for me first, then severity, then the nearest deadline, then the newest.
function urgency(a, b) {
  const offer = (o) => (o.offered_to === me && !o.assignee_id ? 0 : 1);
  const due = (o) => (nextDue(o) ? new Date(nextDue(o)).getTime() : Infinity);
  return offer(a) - offer(b) || SEVERITY[a.severity] - SEVERITY[b.severity] || due(a) - due(b)
    || new Date(b.created_at) - new Date(a.created_at);
}

function where(o) {
  const parts = [places.sites?.[o.site_id] ?? o.site_id, places.buildings?.[o.building_id] ?? o.building_id,
    o.building_unit, o.floor ? `${o.floor}F` : null];
  return [parts.filter(Boolean).join(' '), o.address].filter(Boolean).join(' · ');
}

function row(o, { fresh = false } = {}) {
  const due = dueAttrs(o);
  const offered = o.offered_to === me && !o.assignee_id;
  return el('li', { class: `sev-${o.severity}${offered ? ' offer' : ''}${fresh ? ' fresh' : ''}`, 'data-order-id': o.id },
    el('a', { href: `/crew/orders/${o.id}` },
      el('div', { class: 'line' }, el('span', { class: `badge ${o.severity}` }, o.severity),
        el('strong', {}, places.categories?.[o.category] ?? o.category),
        offered ? el('span', { class: 'tag offer' }, say('crew_offer')) : null),
      el('div', { class: 'where' }, where(o)),
      el('div', { class: 'meta' }, el('span', { class: 'state' }, i18n.states?.[o.state] ?? o.state),
        due ? el('span', { class: 'due', ...due }) : null,
        el('span', { class: 'number' }, o.number))));
}

function closedRow(o) {
  return el('li', { class: 'done', 'data-order-id': o.id },
    el('a', { href: `/crew/orders/${o.id}` },
      el('div', { class: 'line' }, el('strong', {}, places.categories?.[o.category] ?? o.category)),
      el('div', { class: 'where' }, where(o)),
      el('div', { class: 'meta' }, el('span', { class: 'state' }, i18n.states?.[o.state] ?? o.state),
        el('span', {}, siteTime(o.resolved_at || o.closed_at, zoneOf(o))))));
}

// With the app in a background tab the phone's own notification says it too (granted at the first tap).
function notify(text) {
  if (!document.hidden || !('Notification' in window) || Notification.permission !== 'granted') return;
  new Notification(document.title, { body: text, tag: 'pw-crew-new-order' });
}

function chime() {
  document.body.dataset.chimes = String(Number(document.body.dataset.chimes || 0) + 1);
  navigator.vibrate?.([200, 100, 200]);
  if (!audio || audio.state !== 'running') return;
  for (const [at, pitch] of [[0, 660], [0.18, 880]]) {
    const osc = audio.createOscillator();
    const gain = audio.createGain();
    osc.frequency.value = pitch;
    gain.gain.value = 0.25;
    osc.connect(gain).connect(audio.destination);
    osc.start(audio.currentTime + at);
    osc.stop(audio.currentTime + at + 0.15);
  }
}

function show(open, done, { stale = null } = {}) {
  const fresh = known ? open.filter((o) => !known.has(o.id)) : [];
  list.replaceChildren(...(open.length ? open.map((o) => row(o, { fresh: fresh.includes(o) }))
    : [el('li', { class: 'empty' }, say('crew_none_open'))]));
  closed.replaceChildren(...(done.length ? done.map(closedRow) : [el('li', { class: 'empty' }, say('crew_none_closed'))]));
  const note = document.getElementById('stale');
  note.hidden = !stale;
  note.textContent = stale ? say('crew_stale', { t: siteTime(stale) }) : '';
  if (fresh.length) {
    const banner = document.getElementById('arrived');
    banner.hidden = false;
    banner.textContent = say('crew_new_order', { list: fresh.map((o) => places.categories?.[o.category] ?? o.number).join('、') });
    chime();
    notify(banner.textContent);
  }
  known = new Set(open.map((o) => o.id));
  tickDue(list);
}

async function refresh() {
  try {
    const [open, done] = await Promise.all([api(query(OPEN, 100)), api(query(DONE, 50))]);
    const today = (o) => siteDay(o.resolved_at || o.closed_at || o.created_at, zoneOf(o))
      === siteDay(new Date().toISOString(), zoneOf(o));
    const data = { open: open.items.sort(urgency), done: done.items.filter(today), at: new Date().toISOString() };
    localStorage.setItem(CACHE, JSON.stringify(data));
    show(data.open, data.done);
  } catch {
    const cached = JSON.parse(localStorage.getItem(CACHE) || 'null');
    if (cached && known === null) show(cached.open, cached.done, { stale: cached.at });
    else document.getElementById('stale').hidden = false;
  }
}

// Browsers let a page make sound only after a tap on it; the first tap anywhere unlocks it.
const sound = document.getElementById('sound');
function unlock() {
  if ('Notification' in window && Notification.permission === 'default') Notification.requestPermission();
  audio ??= new AudioContext();
  audio.resume().then(() => {
    sound.textContent = say('crew_sound_on');
    sound.classList.add('on');
    document.body.dataset.sound = 'on';
  });
}
document.addEventListener('pointerdown', unlock, { once: true });
sound.addEventListener('click', unlock);

// Several events can come at once (an order opened and offered): one refresh for the lot.
let pending = null;
live(() => { clearTimeout(pending); pending = setTimeout(refresh, 200); });
showSync(document.getElementById('sync'));
setInterval(() => tickDue(list), 1000);
refresh();
