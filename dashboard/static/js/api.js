// Same-origin JSON calls with the session cookie and the CSRF header.
const csrf = () => document.querySelector('meta[name="csrf-token"]')?.content ?? '';
export const lang = document.querySelector('meta[name="lang"]')?.content ?? 'zh';
export const i18n = JSON.parse(document.getElementById('i18n')?.textContent ?? '{}');

export async function api(path, { method = 'GET', body, form } = {}) {
  const headers = { 'X-CSRF-Token': csrf(), Accept: 'application/json' };
  let payload;
  if (form) payload = form;
  else if (body !== undefined) { headers['Content-Type'] = 'application/json'; payload = JSON.stringify(body); }
  const res = await fetch(path, { method, headers, body: payload, credentials: 'same-origin' });
  const data = res.status === 204 ? null : await res.json().catch(() => null);
  // The error keeps its code and details, so a page can say why in the reader's language (details.reason).
  if (!res.ok) throw Object.assign(new Error(data?.error?.message ?? `HTTP ${res.status}`), data?.error ?? {});
  return data;
}

export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (v !== undefined && v !== null && v !== false) node.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat()) if (c !== null && c !== undefined) node.append(c);
  return node;
}

export function fmtTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  return d.toLocaleString(lang === 'en' ? 'en-GB' : 'zh-CN', { hour12: false });
}

export function countdown(iso) {
  const ms = new Date(iso) - Date.now();
  const s = Math.abs(Math.round(ms / 1000));
  const text = `${ms < 0 ? '-' : ''}${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  return { text, overdue: ms < 0 };
}

export function live(onEvent) {
  const source = new EventSource('/api/v1/events/stream');
  const dot = document.getElementById('live');
  // (Re)connected: events may have been missed in between, so let the page re-read its data.
  source.onopen = () => { dot?.classList.add('up'); onEvent('open', {}); };
  source.onerror = () => dot?.classList.remove('up');
  for (const name of ['alarm', 'work_order']) {
    source.addEventListener(name, (e) => onEvent(name, JSON.parse(e.data)));
  }
  return source;
}
