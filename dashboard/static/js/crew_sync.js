// The outbox's state on screen: "queued (n)", "sending…", "sent", or each refusal with its reason to dismiss.
import { el, i18n } from './api.js';
import { say } from './crew_format.js';
import { dismiss, onChange, status } from './crew_outbox.js';

const SENT_SHOWN_MS = 10000;

/** What a refusal means, in the crew member's language: for something entered (422) the page's string for the
 * error the server names (err_NoteRequired), else the one for its status (the server's own words only when it is
 * not a usual one: they are English, kept for API clients). */
export function meaning(item) {
  const precise = item.code === 422 ? i18n[`err_${item.why}`] : null;
  const key = `crew_refused_${item.code}`;
  return precise ?? (key in i18n ? i18n[key] : item.reason);
}

export function showSync(node) {
  const offline = () => !navigator.onLine;
  const render = (s) => {
    const parts = [];
    if (offline()) parts.push(el('p', { class: 'offline' }, say('crew_offline')));
    if (s.sending) parts.push(el('p', { class: 'sending' }, say('crew_sync_sending')));
    else if (s.queued) parts.push(el('p', { class: 'queued' }, say('crew_sync_queued', { n: s.queued })));
    else if (s.lastSent && !s.failed.length && Date.now() - s.lastSent.at < SENT_SHOWN_MS) {
      parts.push(el('p', { class: 'sent' }, say('crew_sync_sent')));
      setTimeout(() => render(status()), SENT_SHOWN_MS);
    }
    for (const f of s.failed) {
      parts.push(el('p', { class: 'failed' }, say('crew_sync_failed', { reason: meaning(f) }), ' ',
        el('button', { type: 'button', class: 'dismiss', onclick: () => dismiss(f.id) }, say('crew_dismiss'))));
    }
    node.replaceChildren(...parts);
    node.hidden = parts.length === 0;
    node.dataset.queued = String(s.queued);
  };
  onChange(render);
  window.addEventListener('online', () => onChange(render));
  window.addEventListener('offline', () => onChange(render));
}
