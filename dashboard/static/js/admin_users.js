// Users and crew members: list, create, deactivate or reactivate, reset a password; register and edit crew.
import { api, el, lang } from './api.js';
import { change, t } from './admin_ui.js';

const data = JSON.parse(document.getElementById('adm-data').textContent);
const siteName = Object.fromEntries(data.sites.map((s) => [s.id, s.name]));
const unitName = Object.fromEntries(data.units.map((u) => [u.id, u.name]));
const DAYS = ['mon', 'tue', 'wed', 'thu', 'fri', 'sat', 'sun'];
const estates = (ids) => (ids.length ? ids.map((id) => siteName[id] ?? id).join('、') : t('adm_all_estates'));

// A password nobody chose: 16 characters from a 56-letter alphabet without look-alikes (about 93 bits).
function oneTimePassword() {
  const letters = 'abcdefghijkmnpqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789';
  return Array.from(crypto.getRandomValues(new Uint32Array(16)), (n) => letters[n % letters.length]).join('');
}

function showPassword(username, password) {
  const box = document.getElementById('one-time');
  box.hidden = false;
  box.replaceChildren(t('adm_one_time_password'), ' ', el('strong', {}, username), ' / ', el('code', { id: 'one-time-password' }, password));
}

async function loadUsers() {
  const page = await api('/api/v1/users?limit=500');
  const result = document.getElementById('users-result');
  document.querySelector('#users tbody').replaceChildren(...page.items.map((u) => {
    const toggle = el('button', {
      class: u.active ? 'reject' : '',
      onclick: () => change(result, t(u.active ? 'adm_confirm_deactivate' : 'adm_confirm_reactivate', { name: u.username }),
        () => api(`/api/v1/users/${u.id}`, { method: 'PATCH', body: { active: !u.active } })).then((done) => done && loadUsers()),
    }, t(u.active ? 'adm_deactivate' : 'adm_reactivate'));
    const reset = el('button', {
      onclick: () => change(result, t('adm_confirm_reset', { name: u.username }),
        () => api(`/api/v1/users/${u.id}/password`, { method: 'POST' })).then((done) => done && showPassword(done.username, done.password)),
    }, t('adm_reset_password'));
    return el('tr', { 'data-user': u.username, class: u.active ? '' : 'adm-off' },
      el('td', {}, u.username), el('td', {}, u.display_name), el('td', {}, t(`adm_role_${u.role}`)),
      el('td', {}, u.role === 'admin' ? t('adm_all_estates') : estates(u.site_ids)),
      el('td', {}, t(u.active ? 'adm_active' : 'adm_inactive')), el('td', { class: 'actions' }, toggle, reset));
  }));
}

const userForm = document.getElementById('user-form');
// The crew login's link to its crew member and unit only shows for the crew role.
function roleFields() {
  for (const node of userForm.querySelectorAll('[data-for-role]')) node.hidden = node.dataset.forRole !== userForm.role.value;
}
userForm.role.addEventListener('change', roleFields);
roleFields();
userForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = userForm;
  const body = {
    username: f.username.value.trim(), display_name: f.display_name.value.trim(), role: f.role.value,
    site_ids: [...f.querySelectorAll('input[name=site_ids]:checked')].map((c) => c.value), password: oneTimePassword(),
  };
  if (body.role === 'crew') Object.assign(body, { crew_member_id: f.crew_member_id.value || null, unit_id: f.unit_id.value || null });
  const made = await change(document.getElementById('user-result'),
    t('adm_confirm_create_user', { name: body.username, role: t(`adm_role_${body.role}`) }),
    () => api('/api/v1/users', { method: 'POST', body }));
  if (made) { showPassword(made.username, body.password); f.reset(); roleFields(); await loadUsers(); }
});

// Crew members
const crewForm = document.getElementById('crew-form');
let editing = null;

function shiftRow(shift = { days: [], start: '08:00', end: '20:00' }) {
  return el('div', { class: 'adm-shift' },
    ...DAYS.map((d) => el('label', { class: 'check' }, el('input', { type: 'checkbox', value: d, checked: shift.days.includes(d) }), t(`adm_day_${d}`))),
    el('label', {}, t('adm_shift_from'), ' ', el('input', { type: 'time', class: 'from', value: shift.start })),
    el('label', {}, t('adm_shift_to'), ' ', el('input', { type: 'time', class: 'to', value: shift.end })),
    el('button', { type: 'button', onclick: (e) => e.target.closest('.adm-shift').remove() }, '×'));
}

const shiftText = (s) => `${s.days.map((d) => t(`adm_day_${d}`)).join('')} ${s.start}–${s.end}`;

// When dispatch offers the member orders: active and clocked in (any time) or inside a weekly shift
// (dispatch.crew, CrewMember.available); with neither, only a hand assignment reaches them.
function availability(m) {
  if (!m.active) return t('adm_avail_inactive');
  if (m.on_shift) return t('adm_avail_clocked_in');
  return t(m.shifts.length ? 'adm_avail_shifts' : 'adm_avail_never');
}

function fillCrew(member) {
  editing = member;
  const f = crewForm;
  f.reset();
  document.getElementById('crew-form-title').textContent = member ? `${t('adm_edit')} ${member.name}` : t('adm_new_crew');
  f.id.readOnly = Boolean(member);
  for (const node of f.querySelectorAll('.adm-shift')) node.remove();
  if (!member) return;
  f.id.value = member.id; f.name.value = member.name; f.unit_id.value = member.unit_id; f.phone.value = member.phone;
  f.skills.value = member.skills.join(', '); f.on_shift.checked = member.on_shift; f.active.checked = member.active;
  for (const box of f.querySelectorAll('input[name=site_ids]')) box.checked = member.site_ids.includes(box.value);
  const add = document.getElementById('add-shift');
  for (const s of member.shifts) add.before(shiftRow(s));
}

async function loadCrew() {
  const page = await api('/api/v1/crew?limit=500');
  document.querySelector('#crew tbody').replaceChildren(...page.items.map((m) => el('tr', { 'data-crew': m.id, class: m.active ? '' : 'adm-off' },
    el('td', {}, m.id), el('td', {}, m.name), el('td', {}, unitName[m.unit_id] ?? m.unit_id),
    el('td', {}, m.skills.map((k) => data.skills[k] ?? k).join(lang === 'en' ? ', ' : '、')),
    el('td', {}, estates(m.site_ids)), el('td', {}, m.shifts.map(shiftText).join('; ') || t('adm_no_shifts')),
    el('td', { class: 'adm-avail' }, availability(m)), el('td', {}, m.phone),
    el('td', {}, t(m.active ? 'adm_active' : 'adm_inactive')),
    el('td', {}, el('button', { onclick: () => { fillCrew(m); crewForm.scrollIntoView(); } }, t('adm_edit'))))));
}

document.getElementById('add-shift').addEventListener('click', (e) => e.target.before(shiftRow()));
document.getElementById('crew-new').addEventListener('click', () => fillCrew(null));
crewForm.addEventListener('submit', async (event) => {
  event.preventDefault();
  const f = crewForm;
  const body = {
    name: f.name.value.trim(), unit_id: f.unit_id.value, phone: f.phone.value.trim(),
    skills: f.skills.value.split(/[,，\s]+/).filter(Boolean),
    site_ids: [...f.querySelectorAll('input[name=site_ids]:checked')].map((c) => c.value),
    shifts: [...f.querySelectorAll('.adm-shift')].map((row) => ({
      days: [...row.querySelectorAll('input[type=checkbox]:checked')].map((c) => c.value),
      start: row.querySelector('.from').value, end: row.querySelector('.to').value,
    })),
    on_shift: f.on_shift.checked, active: f.active.checked,
  };
  const result = document.getElementById('crew-result');
  const saved = editing
    ? await change(result, t('adm_confirm_edit_crew', { name: body.name }),
      () => api(`/api/v1/crew/${encodeURIComponent(editing.id)}`, { method: 'PATCH', body }))
    : await change(result, t('adm_confirm_create_crew', { name: body.name, unit: unitName[body.unit_id] ?? body.unit_id }),
      () => api('/api/v1/crew', { method: 'POST', body: { id: f.id.value.trim(), ...body } }));
  if (saved) { fillCrew(null); await loadCrew(); }
});

loadUsers().catch((error) => { document.querySelector('#users tbody').replaceChildren(el('tr', {}, el('td', { colspan: 6, class: 'error' }, error.message))); });
loadCrew().catch((error) => { document.querySelector('#crew tbody').replaceChildren(el('tr', {}, el('td', { colspan: 10, class: 'error' }, error.message))); });
