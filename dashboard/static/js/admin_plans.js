// Preventive plans: the soonest due first; schedule a template for an estate, building or device; move the
// next due date, pause or resume a plan.
import { api, el, lang } from './api.js';
import { change, estateTime, fromEstateTime, report, t } from './admin_ui.js';

const data = JSON.parse(document.getElementById('adm-data').textContent);
const site = Object.fromEntries(data.sites.map((s) => [s.id, s]));
const title = Object.fromEntries(data.templates.map((x) => [x.id, lang === 'en' ? x.en : x.zh]));
const result = document.getElementById('plans-result');
const PAGE = 50;
let offset = 0;

const patch = (plan, body) => api(`/api/v1/preventive-plans/${plan.id}`, { method: 'PATCH', body });

function moveControl(plan, zone) {
  const when = el('input', { type: 'datetime-local', 'aria-label': t('adm_move_to', { n: plan.id }) });
  const move = el('button', {
    onclick: () => when.value && change(result, t('adm_confirm_move', { when: when.value }),
      () => patch(plan, { next_due_at: fromEstateTime(when.value, zone) })).then((done) => done && load()),
  }, t('adm_move'));
  return [when, move];
}

function row(plan) {
  const zone = site[plan.site_id]?.tz ?? 'Asia/Shanghai';
  const toggle = el('button', {
    class: plan.active ? 'reject' : '',
    onclick: () => change(result, t(plan.active ? 'adm_confirm_pause' : 'adm_confirm_resume'),
      () => patch(plan, { active: !plan.active })).then((done) => done && load()),
  }, t(plan.active ? 'adm_pause' : 'adm_resume'));
  return el('tr', { 'data-plan': plan.id, class: plan.active ? '' : 'adm-off' },
    el('td', {}, String(plan.id)), el('td', {}, title[plan.template] ?? plan.template),
    el('td', {}, site[plan.site_id]?.name ?? plan.site_id), el('td', {}, plan.device_id ?? plan.building_id ?? ''),
    el('td', {}, estateTime(plan.next_due_at, zone)), el('td', {}, t(plan.active ? 'adm_active' : 'adm_paused')),
    el('td', { class: 'actions' }, toggle, ...moveControl(plan, zone)));
}

async function load() {
  const page = await api(`/api/v1/preventive-plans?limit=${PAGE}&offset=${offset}`);
  document.querySelector('#plans tbody').replaceChildren(...(page.items.length ? page.items.map(row)
    : [el('tr', {}, el('td', { colspan: 7 }, t('adm_none')))]));
  document.getElementById('range').textContent = t('adm_range', { from: page.total ? offset + 1 : 0, to: offset + page.items.length, total: page.total });
  document.getElementById('prev').disabled = offset === 0;
  document.getElementById('next').disabled = offset + PAGE >= page.total;
}

const form = document.getElementById('plan-form');
form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const zone = site[form.site_id.value]?.tz ?? 'Asia/Shanghai';
  const body = {
    template: form.template.value, site_id: form.site_id.value, building_id: form.building_id.value.trim() || null,
    device_id: form.device_id.value.trim() || null, first_due: fromEstateTime(form.first_due.value, zone),
  };
  const target = body.device_id ?? body.building_id ?? site[body.site_id]?.name;
  const made = await change(document.getElementById('plan-result'), t('adm_confirm_plan', { target, template: title[body.template] }),
    () => api('/api/v1/preventive-plans', { method: 'POST', body }), (p) => `${t('adm_done')}: #${p.id}`);
  if (made) { form.reset(); await load(); }
});
document.getElementById('prev').addEventListener('click', () => { offset = Math.max(0, offset - PAGE); load(); });
document.getElementById('next').addEventListener('click', () => { offset += PAGE; load(); });

load().catch((error) => report(result, error));
