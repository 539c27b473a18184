// Crew: one order. Where and what, the procedure as a checklist kept on this phone, the due time of each step,
// the call-back number, one big button for the next step, hold and resume with a reason, resolve with a note,
// parts and cost (required, read back for confirmation), photos with upload progress and a gallery, the history.
// Actions go through the outbox, so a tap without network is kept and sent when the network is back.
import { api, el, i18n, lang } from './api.js';
import { FINISHED, STEPS, dueAttrs, say, siteClock, siteTime, tickDue } from './crew_format.js';
import { refusal } from './refusal.js';
import { enqueue, items, onChange } from './crew_outbox.js';
import { Offline, keep, sendKept, upload, waiting } from './crew_photos.js';
import { meaning, showSync } from './crew_sync.js';
import { fen, isAmount, partsLine, readParts, yuan } from './wo_costs.js';

const box = document.getElementById('order');
const id = box.dataset.orderId;
const me = box.dataset.crewMember;
const msg = document.getElementById('msg');
const places = i18n.places ?? {};
const CACHE = `pw.crew.order.${id}`;
const TICKS = `pw.crew.checklist.${id}`;
const $ = (sel) => document.getElementById(sel);
let order = null;
let zone = 'Asia/Shanghai';
let sentBefore = null;
let refusedBefore = null;

const label = (state) => i18n.states?.[state] ?? state;

// Where the order will be once the actions still in the outbox are sent: the buttons follow that.
function expected(o) {
  let { state } = o;
  let mine = Boolean(me) && o.assignee_id === me;
  for (const item of items()) {
    if (item.order !== id || item.status === 'failed') continue;
    if (item.kind === 'accept') { state = 'DISPATCHED'; mine = true; } else state = item.body.to_state;
  }
  return { state, mine, queued: state !== o.state };
}

function buttons(o) {
  const { state, mine } = expected(o);
  const offerable = !o.assignee_id && ['NEW', 'ACKED'].includes(state);
  const next = {
    'btn-accept': offerable && !mine, 'btn-en-route': mine && state === 'DISPATCHED',
    'btn-on-site': mine && ['DISPATCHED', 'EN_ROUTE'].includes(state), 'btn-start': mine && state === 'ON_SITE',
    'btn-resolve': mine && ['ON_SITE', 'IN_PROGRESS'].includes(state),
  };
  for (const [button, shown] of Object.entries(next)) { $(button).hidden = !shown; $(button).disabled = !shown; }
  // On site, the one big step is starting work; resolving straight from there stays in the finish card.
  $('btn-on-site').classList.toggle('secondary', state === 'DISPATCHED');
  $('hold-box').hidden = !(mine && ['IN_PROGRESS', 'ON_HOLD'].includes(state));
  $('btn-hold').hidden = state !== 'IN_PROGRESS';
  $('btn-resume').hidden = state !== 'ON_HOLD';
  $('finish').hidden = !mine || !['ON_SITE', 'IN_PROGRESS', 'ON_HOLD'].includes(state);
  // Once the order is finished the step card says where it stands instead of standing empty.
  $('done-line').hidden = !FINISHED.includes(state);
  $('done-line').textContent = FINISHED.includes(state) ? say(`crew_after_${state}`) : '';
  $('photo').disabled = !mine;
  box.dataset.expected = state;
  $('pending').hidden = state === o.state;
  $('pending').textContent = say('crew_pending', { state: label(state) });
}

function facts(o) {
  const loc = o.location ?? {};
  const rows = [
    ['site', loc.site_name ?? places.sites?.[o.site_id] ?? o.site_id],
    ['building', loc.building_name ?? places.buildings?.[o.building_id] ?? o.building_id],
    ['crew_unit_floor', [loc.building_unit ?? o.building_unit, (loc.floor ?? o.floor) ? `${loc.floor ?? o.floor}F` : null]
      .filter(Boolean).join(' ')],
    ['device', loc.device_name ? `${loc.device_name} (${loc.device_id})` : o.device_id],
    ['crew_address', loc.address ?? o.address],
  ].filter(([, value]) => value);
  $('location').replaceChildren(...rows.flatMap(([key, value]) => [el('dt', {}, say(key)), el('dd', {}, value)]));
  const contact = o.reporter?.contact;
  $('callback').hidden = !contact;
  $('callback').replaceChildren(...(contact ? [el('a', { class: 'call', href: `tel:${contact.replace(/[^0-9+]/g, '')}` },
    `☎ ${say('crew_call')} ${contact}`)] : []));
  $('description').textContent = o.description || titleOf(o) || '';
}

function dueTimes(o) {
  $('due-times').tBodies[0].replaceChildren(...STEPS.filter(([step]) => o.due?.[step]).map(([step, stamp]) => {
    const done = o[stamp];
    const late = done && new Date(done) > new Date(o.due[step]);
    return el('tr', { 'data-step': step }, el('th', {}, say(`crew_step_${step}`)),
      el('td', { class: 'at' }, siteTime(o.due[step], zone)),
      el('td', { class: late ? 'overdue' : '' }, done ? say('crew_done_at', { t: siteClock(done, zone) })
        : FINISHED.includes(o.state) ? '—' : el('span', { 'data-due': o.due[step] })));
  }));
}

function gallery(o) {
  const photos = o.photos ?? [];
  $('gallery').replaceChildren(...(photos.length ? photos.map((p) => {
    const src = `/api/v1/work-orders/${id}/photos/${p.id}`;
    return el('li', {}, el('button', { type: 'button', class: 'thumb', 'data-photo-id': p.id,
      onclick: () => { $('viewer-img').src = src; $('viewer').showModal(); } },
    el('img', { src, alt: `${say('photo')} ${siteTime(p.uploaded_at, zone)}`, loading: 'lazy' })));
  }) : [el('li', { class: 'empty' }, say('crew_no_photos'))]));
}

// What a step used: its parts and the cost entered (the amount as the server wrote it: money is never a float).
function spent(e) {
  const said = [(e.parts || []).map((p) => `${p.name} ×${p.quantity}`).join('、'),
    e.labour_cost != null ? say('crew_spent', { amount: e.labour_cost }) : ''].filter(Boolean);
  return said.length ? el('div', { class: 'spent' }, said.join(' · ')) : null;
}

// The title in the reader's language: the English one where the system wrote one, else the title as stored.
const titleOf = (o) => (lang === 'en' && o.title_en) || o.title;

// Kinds whose note the system writes in English (the alarm feed, offers, escalations, upgrades): the page tells
// them from their facts in the reader's language instead, or, where it has nothing to tell, leaves them out.
const SYSTEM_KINDS = new Set(['alarm', 'offer', 'offer_timeout', 'escalation', 'upgrade']);
// Notes the system writes on a person's own event (acknowledging the alarm acknowledges its order), by pattern,
// so rows written before are told in the reader's language too.
const SYSTEM_WORDING = { 'alarm acknowledged': 'wo_note_alarm_acknowledged' };

function noteOf(e) {
  if (e.kind === 'alarm') {
    return say('crew_alarm_event', { id: e.data?.alarm_id ?? '', state: i18n[`st_${e.data?.to_state}`] ?? '' });
  }
  if (SYSTEM_KINDS.has(e.kind) || e.actor?.startsWith('system:')) return lang === 'en' ? e.note : null;
  const worded = SYSTEM_WORDING[e.note ?? ''];
  return worded ? say(worded) : e.note;
}

// What kind of entry it is, where no state change says it: a photo, or costs recorded after the repair.
const KIND_SAID = { photo: 'crew_photo_event', cost: 'crew_cost_event' };

function history(o) {
  const shown = (o.events || []).filter((e) => e.to_state || noteOf(e) || e.photo_ids?.length);
  $('events').replaceChildren(...shown.map((e) => el('li', {}, el('time', {}, siteTime(e.at, zone)), ' ',
    e.to_state ? el('strong', {}, `${e.from_state ? label(e.from_state) : ''} → ${label(e.to_state)}`) : '',
    !e.to_state && KIND_SAID[e.kind] ? say(KIND_SAID[e.kind]) : '', ' ', noteOf(e) ?? '', spent(e))));
}

function render(o, { stale = null } = {}) {
  order = o;
  zone = places.zones?.[o.site_id] || 'Asia/Shanghai';
  $('order-title').textContent = `${o.number ?? `#${o.id}`} ${titleOf(o) ?? ''}`;
  $('order-sev').textContent = o.severity;
  $('order-sev').className = `badge ${o.severity}`;
  $('order-category').textContent = places.categories?.[o.category] ?? o.category;
  $('order-state').textContent = label(o.state);
  const due = dueAttrs(o);
  $('order-due').replaceChildren(...(due ? [el('span', due)] : []));
  box.dataset.state = o.state;
  box.dataset.mine = o.assignee_id === me ? 'yes' : 'no';
  facts(o);
  dueTimes(o);
  gallery(o);
  history(o);
  buttons(o);
  $('stale').hidden = !stale;
  $('stale').textContent = stale ? say('crew_stale', { t: siteTime(stale, zone) }) : '';
  tickDue();
}

async function load() {
  try {
    const o = await api(`/api/v1/work-orders/${id}`);
    localStorage.setItem(CACHE, JSON.stringify({ order: o, at: new Date().toISOString() }));
    render(o);
  } catch (err) {
    const cached = JSON.parse(localStorage.getItem(CACHE) || 'null');
    if (cached) render(cached.order, { stale: cached.at });
    else msg.textContent = refusal(err);
  }
}

// --- the checklist: ticks per order on this phone ---
const ticks = JSON.parse(localStorage.getItem(TICKS) || '[]');
for (const box_ of document.querySelectorAll('#procedure input[data-step]')) {
  box_.checked = Boolean(ticks[box_.dataset.step]);
  box_.addEventListener('change', () => {
    ticks[box_.dataset.step] = box_.checked;
    localStorage.setItem(TICKS, JSON.stringify(ticks));
  });
}

// --- actions ---
// A refusal before anything is sent, with the field to fix.
class Lacking extends Error {
  constructor(key, field) { super(say(key)); this.field = field; }
}

function body(to) {
  if (to === 'ON_HOLD' || to === 'RESUME') {
    const reason = $('hold-reason').value.trim();
    if (to === 'ON_HOLD' && !reason) throw new Lacking('crew_reason_needed', 'hold-reason');
    return { to_state: to === 'RESUME' ? 'IN_PROGRESS' : 'ON_HOLD', note: reason || null };
  }
  return { to_state: to };
}

// The finish card read and checked: what was done (required), the parts with their prices, the labour (required,
// 0 when there was none), and a total above zero when a fund draw waits for the order's cost.
function finishing() {
  const note = $('note').value.trim();
  if (!note) throw new Lacking('crew_note_needed', 'note');
  const read = readParts($('parts').value);
  if (!read) throw new Lacking('crew_parts_invalid', 'parts');
  const labour = $('cost').value.trim();
  if (!labour) throw new Lacking('crew_labour_needed', 'cost');
  if (!isAmount(labour)) throw new Lacking('crew_cost_invalid', 'cost');
  const total = (order?.cost_total ? fen(order.cost_total) : 0) + fen(labour) + read.total;
  if (order?.fund_draw_open && total <= 0) throw new Lacking('crew_cost_needed_draw', 'cost');
  return { body: { to_state: 'RESOLVED', note, cost: labour, parts: read.parts.length ? read.parts : null },
    total, parts: read.parts };
}

// Read the finish card back before it goes: resolving cannot be undone from the phone.
function confirmFinish(finish) {
  const rows = [['crew_sum_note', finish.body.note], ['crew_sum_parts', partsLine(finish.parts) || say('crew_sum_none')],
    ['crew_sum_labour', `¥${yuan(fen(finish.body.cost))}`], ['crew_sum_total', `¥${yuan(finish.total)}`]];
  $('resolve-summary').replaceChildren(...rows.flatMap(([key, value]) => [el('dt', {}, say(key)), el('dd', {}, value)]));
  $('resolve-confirm').returnValue = '';
  $('resolve-confirm').showModal();
  $('resolve-confirm').addEventListener('close', () => {
    if ($('resolve-confirm').returnValue !== 'ok') return;
    enqueue(id, 'transition', finish.body);
    if (order) buttons(order);
  }, { once: true });
}

for (const button of document.querySelectorAll('button[data-to]')) {
  button.addEventListener('click', () => {
    msg.textContent = '';
    msg.className = '';
    for (const field of document.querySelectorAll('#order [aria-invalid]')) field.removeAttribute('aria-invalid');
    try {
      if (button.dataset.to === 'ACCEPT') enqueue(id, 'accept', null, me);
      else if (button.dataset.to === 'RESOLVED') confirmFinish(finishing());
      else enqueue(id, 'transition', body(button.dataset.to));
      if (button.dataset.to === 'ON_HOLD' || button.dataset.to === 'RESUME') $('hold-reason').value = '';
    } catch (err) {
      if (!(err instanceof Lacking)) throw err;
      msg.textContent = err.message;
      msg.className = 'error';
      $(err.field).setAttribute('aria-invalid', 'true');
      $(err.field).focus();
    }
    if (order) buttons(order);
  });
}

// The outbox reports: an action of this order sent (reload it) or refused (say why).
onChange((s) => {
  if (s.lastSent && s.lastSent !== sentBefore && s.lastSent.order === id) {
    sentBefore = s.lastSent;
    msg.textContent = '✓';
    load();
  }
  // A refusal usually means the order changed under us (cancelled, taken): show it as it now is.
  const refused = s.failed.filter((f) => f.order === id).at(-1);
  if (refused && refused.id !== refusedBefore) {
    refusedBefore = refused.id;
    msg.textContent = meaning(refused);
    msg.className = 'error';
    load();
  }
  if (order) buttons(order);
});

// --- photos: sent at once with progress, or kept on the phone until the network is back ---
function progress(percent) {
  $('upload-progress').hidden = false;
  $('upload-progress').value = percent;
  $('upload-msg').className = '';
  $('upload-msg').textContent = say('crew_uploading', { p: percent });
}

function uploaded(refusal) {
  $('upload-progress').hidden = true;
  $('upload-msg').className = refusal ? 'error' : '';
  $('upload-msg').textContent = refusal ? say('crew_upload_failed', { reason: refusal }) : say('crew_uploaded');
  if (!refusal) { msg.textContent = '✓'; load(); }
}

async function showKept() {
  const kept = (await waiting()).filter((p) => p.order === id).length;
  $('photos-kept').hidden = !kept;
  $('photos-kept').textContent = say('crew_photos_kept', { n: kept });
}

async function sendPhotos() {
  await sendKept((item, what, value) => {
    if (item.order !== id) return;
    if (what === 'progress') progress(value);
    else uploaded(what === 'refused' ? value : null);
  });
  showKept();
}

$('photo').addEventListener('change', async (e) => {
  const file = e.target.files[0];
  e.target.value = '';
  if (!file) return;
  progress(0);
  try {
    uploaded(await upload(id, file, progress));
  } catch (err) {
    if (!(err instanceof Offline)) throw err;
    await keep(id, file);
    $('upload-progress').hidden = true;
    $('upload-msg').textContent = '';
    showKept();
  }
});
window.addEventListener('online', sendPhotos);

showSync($('sync'));
setInterval(() => tickDue(), 1000);
// Someone else changed the order (the control room assigned, held or cancelled it): show it now.
const source = new EventSource('/api/v1/events/stream');
source.addEventListener('work_order', (e) => { if (String(JSON.parse(e.data).id) === id) load(); });
source.onopen = () => load();
load();
sendPhotos();
