// The estate plan: buildings with their devices inside and the estate-level rooms, drawn as SVG from the plan
// the page embeds (GET /api/v1/sites/{id}/plan), each coloured by its worst open alarm and redrawn when an
// alarm changes. A device links to its page, an alarm badge to its alarm. Admins drag a building or device;
// letting go saves the position (PUT …/plan/buildings/{id} or …/plan/devices/{id}, audited), a device inside a building relative to it.
import { api, i18n, live } from './api.js';

const NS = 'http://www.w3.org/2000/svg';
const DRAG_PX = 3;  // a press that moves less than this is a click

function node(tag, attrs = {}, ...children) {
  const n = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs)) if (v !== undefined && v !== null) n.setAttribute(k, v);
  for (const c of children) n.append(c);
  return n;
}

const text = (cls, x, y, value, anchor = 'start') => node('text', { class: cls, x, y, 'text-anchor': anchor }, value);

// An item's alarm badge, coloured by its worst open alarm and linking to it. Several open alarms are spelled out
// by severity (P0·1 P1·1: one P0 and one P1, never read as two P0s), and in words on hover. `x` is the badge's
// left edge, or its right edge with `fromRight` (the badge widens to the left, inside the item).
function badge(item, x, y, fromRight = false) {
  if (!item.alarm_id) return null;
  const per = Object.entries(item.by_severity ?? {}).sort(([a], [b]) => a.localeCompare(b));
  const label = item.alarms > 1 ? per.map(([sev, n]) => `${sev}·${n}`).join(' ') : item.severity;
  const parts = per.map(([sev, n]) => i18n.badge_part.replace('{sev}', i18n.sev[sev] ?? sev).replace('{n}', n));
  const words = i18n.badge.replace('{n}', item.alarms).replace('{list}', parts.join(i18n.sep));
  const width = Math.max(34, label.length * 7 + 8);
  const left = fromRight ? x - width : x;
  return node('a', { class: `alarm sev-${item.severity}`, href: `/alarms/${item.alarm_id}`, 'data-alarm': item.alarm_id,
    'data-label': label }, node('title', {}, words),
  node('rect', { x: left, y, width, height: 16, rx: 3 }), text('', left + width / 2, y + 12, label, 'middle'));
}

// The tooltip of an item: its name, kind and id (secondary), and a device's latest states by name (运行方向 上行),
// each with its code for engineers.
function tooltip(item) {
  const head = [item.name, item.type ? (i18n.kinds[item.type] ?? item.type) : null, `${i18n.id} ${item.id}`];
  const states = Object.entries(item.states ?? {}).map(([metric, code]) => {
    const known = i18n.states[metric];
    const label = known?.values[String(code)];
    return `${known?.name ?? metric} ${label ? `${label} (${code})` : code}`;
  });
  return [head.filter(Boolean).join(' · '), ...states].join('\n');
}

function group(item, extra = '') {
  return node('g', { class: `${item.kind}${extra} draggable sev-${item.severity}`, 'data-kind': item.kind,
    'data-id': item.id, 'data-severity': item.severity, 'data-x': item.x, 'data-y': item.y,
    transform: `translate(${item.x} ${item.y})` }, node('title', {}, tooltip(item)));
}

function drawDevice(item, building) {
  const g = group(item);
  // Inside a building the device's name repeats the building's: keep what tells the devices apart.
  const name = building && item.name.startsWith(building.name) ? item.name.slice(building.name.length) : item.name;
  g.append(node('a', { href: `/devices/${encodeURIComponent(item.id)}` }, node('circle', { r: 13 }),
    text('sub', 0, 28, name, 'middle')));
  const b = badge(item, 8, -31);  // above and right of the dot, clear of the names of the row above
  if (b) g.append(b);
  return g;
}

function drawRoom(item) {
  const g = group(item, ' room');
  g.append(node('a', { href: `/devices/${encodeURIComponent(item.id)}` },
    node('rect', { class: 'body', width: item.width, height: item.height, rx: 6 }),
    node('circle', { cx: 26, cy: item.height / 2, r: 11 }),
    text('label', 46, 34, item.name), text('sub', 46, 54, i18n.kinds[item.type] ?? item.type)));
  const b = badge(item, item.width - 6, 8, true);
  if (b) g.append(b);
  return g;
}

function draw(svg, plan) {
  svg.replaceChildren();
  svg.setAttribute('viewBox', `0 0 ${plan.width} ${plan.height}`);
  const buildings = new Map();
  for (const item of plan.items.filter((i) => i.kind === 'building')) {
    const g = group(item);
    g.append(node('rect', { class: 'body', width: item.width, height: item.height, rx: 6 }),
      text('label', 12, 24, item.name));
    const b = badge(item, item.width - 6, 8, true);
    if (b) g.append(b);
    buildings.set(item.id, { g, item });
    svg.append(g);
  }
  for (const item of plan.items.filter((i) => i.kind === 'device')) {
    const host = buildings.get(item.building_id);
    if (host) host.g.append(drawDevice(item, host.item));
    else svg.append(drawRoom(item));
  }
}

const plans = new Map();
let dragging = null;
let dragEndedAt = 0;

async function refresh(site) {
  if (dragging) return;
  const plan = await api(`/api/v1/sites/${encodeURIComponent(site)}/plan`);
  plans.get(site).plan = plan;
  draw(plans.get(site).svg, plan);
}

function point(svg, e) {
  const p = svg.createSVGPoint();
  p.x = e.clientX;
  p.y = e.clientY;
  return p.matrixTransform(svg.getScreenCTM().inverse());
}

function enableDrag(site, svg, status) {
  // A press that ended a drag is not a click: the link under it must not open.
  svg.addEventListener('click', (e) => { if (performance.now() - dragEndedAt < 500) e.preventDefault(); },
    { capture: true });
  svg.addEventListener('pointerdown', (e) => {
    const g = e.target.closest('g.draggable');
    if (!g || e.button !== 0) return;
    e.stopPropagation();
    const start = point(svg, e);
    dragging = { g, start, x: Number(g.dataset.x), y: Number(g.dataset.y), moved: false };
    svg.setPointerCapture(e.pointerId);
  });
  svg.addEventListener('pointermove', (e) => {
    if (!dragging) return;
    const p = point(svg, e);
    const dx = p.x - dragging.start.x;
    const dy = p.y - dragging.start.y;
    if (!dragging.moved && Math.hypot(dx, dy) < DRAG_PX) return;
    dragging.moved = true;
    dragging.g.classList.add('dragging');
    // Kept inside the plan's width: the plan grows downwards only.
    dragging.nx = Math.min(Math.max(0, Math.round(dragging.x + dx)), svg.viewBox.baseVal.width - 20);
    dragging.ny = Math.max(0, Math.round(dragging.y + dy));
    dragging.g.setAttribute('transform', `translate(${dragging.nx} ${dragging.ny})`);
  });
  svg.addEventListener('pointerup', async () => {
    const done = dragging;
    dragging = null;
    if (!done?.moved) return;
    dragEndedAt = performance.now();
    const { kind, id } = done.g.dataset;
    try {
      const plan = await api(`/api/v1/sites/${encodeURIComponent(site)}/plan/${kind}s/${encodeURIComponent(id)}`,
        { method: 'PUT', body: { x: done.nx, y: done.ny } });
      plans.get(site).plan = plan;
      draw(svg, plan);
      status.textContent = i18n.saved;
    } catch (err) {
      status.textContent = `${i18n.failed}: ${err.message}`;
      await refresh(site);
    }
  });
}

for (const card of document.querySelectorAll('section.plan-card')) {
  const svg = card.querySelector('svg.plan');
  const plan = JSON.parse(card.querySelector('script.plan-data').textContent);
  plans.set(card.dataset.site, { svg, plan });
  draw(svg, plan);
  if (i18n.editable) enableDrag(card.dataset.site, svg, card.querySelector('.plan-status'));
}

let pending = null;
let connected = false;
live((name) => {
  // The page's plan is fresh at the first connection; a reconnection may have missed alarms.
  if (name === 'open' && !connected) { connected = true; return; }
  if (name !== 'alarm' && name !== 'open') return;
  clearTimeout(pending);
  pending = setTimeout(() => plans.forEach((_, site) => refresh(site).catch(() => {})), 300);
});
