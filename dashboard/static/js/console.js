// Live alarm console: most severe then newest first; beep and flash on a new P0; ack/assign/silence/clear.
import { api, el, fmtTime, i18n, lang, live } from './api.js';

const tbody = document.querySelector('#alarms tbody');
const empty = document.getElementById('empty');
const dialog = document.getElementById('action-dialog');
const seen = new Set();
let first = true;
let audio;

function beep() {
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
  document.body.classList.add('flash');
  setTimeout(() => document.body.classList.remove('flash'), 3000);
}

function ask(kind, alarm) {
  document.getElementById('action-title').textContent = `${i18n[kind]} · ${title(alarm)}`;
  document.getElementById('assignee-row').hidden = kind !== 'assign';
  document.getElementById('hours-row').hidden = kind !== 'silence';
  document.getElementById('comment').value = '';
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'ok'), { once: true }));
}

async function act(kind, alarm) {
  if (!(await ask(kind, alarm))) return;
  const comment = document.getElementById('comment').value;
  if (kind === 'assign') {
    await api(`/api/v1/alarms/${alarm.id}/assign`, { method: 'POST', body: { assignee: document.getElementById('assignee').value, comment } });
  } else if (kind === 'silence') {
    const hours = Number(document.getElementById('hours').value || 2);
    const now = new Date();
    await api('/api/v1/silences', { method: 'POST', body: {
      scope_type: 'device', scope_id: alarm.device_id, starts_at: now.toISOString(),
      ends_at: new Date(now.getTime() + hours * 3600e3).toISOString(), reason: comment || 'maintenance' } });
  } else {
    await api(`/api/v1/alarms/${alarm.id}/${kind}`, { method: 'POST', body: { comment } });
  }
  await refresh();
}

const title = (a) => (lang === 'en' ? a.title_en || a.title_zh : a.title_zh || a.title_en) || a.category;

function row(a) {
  const buttons = [];
  if (a.state === 'active' || a.state === 'pending') buttons.push(el('button', { class: 'ack', onclick: () => act('ack', a) }, i18n.ack));
  if (a.state !== 'cleared') {
    buttons.push(el('button', { class: 'assign', onclick: () => act('assign', a) }, i18n.assign));
    buttons.push(el('button', { class: 'silence', onclick: () => act('silence', a) }, i18n.silence));
    buttons.push(el('button', { class: 'clear', onclick: () => act('clear', a) }, i18n.clear));
  }
  return el('tr', { class: `sev-${a.severity} state-${a.state}`, 'data-alarm-id': a.id },
    el('td', {}, el('span', { class: `badge ${a.severity}` }, a.severity)),
    el('td', { class: 'title' }, title(a), a.assigned_to ? el('small', {}, ` → ${a.assigned_to}`) : null),
    el('td', {}, el('a', { href: `/devices/${a.device_id}` }, a.device_id ?? '')),
    el('td', { class: 'state', 'data-state': a.state }, i18n[a.state] ?? a.state),
    el('td', {}, fmtTime(a.activated_at || a.first_seen)),
    el('td', { class: 'actions' }, buttons));
}

async function refresh() {
  const page = await api('/api/v1/alarms?state=pending&state=active&state=acknowledged&limit=200');
  let newP0 = false;
  for (const a of page.items) {
    if (!seen.has(a.id) && a.severity === 'P0' && a.state !== 'acknowledged' && !first) newP0 = true;
    seen.add(a.id);
  }
  first = false;
  tbody.replaceChildren(...page.items.map(row));
  empty.hidden = page.items.length > 0;
  if (newP0) beep();
}

let pending;
live((name) => { if (name !== 'work_order') { clearTimeout(pending); pending = setTimeout(refresh, 150); } });
refresh();
