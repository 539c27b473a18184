// Photos waiting for the network, kept in IndexedDB (a photo is too big for localStorage), and their upload
// with progress (XMLHttpRequest reports it; fetch does not). A network failure keeps the photo until the
// browser is back online; a refusal (not an image, too large, not your order) drops it and says why, in the
// reader's language.
import { refusal as refusalText } from './refusal.js';

const DB = 'pw-crew';
const STORE = 'photos';
const UPLOAD_TIMEOUT_MS = 120000;
let draining = false;

export class Offline extends Error {}

function database() {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE, { keyPath: 'key', autoIncrement: true });
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error);
  });
}

async function inStore(mode, work) {
  const db = await database();
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const req = work(t.objectStore(STORE));
    t.oncomplete = () => resolve(req.result);
    t.onerror = () => reject(t.error);
  });
}

/** Keep a photo of an order to send later. */
export const keep = (order, file) => inStore('readwrite', (s) => s.add({ order: String(order), file, at: Date.now() }));
/** The photos still waiting, oldest first. */
export const waiting = () => inStore('readonly', (s) => s.getAll());
const drop = (key) => inStore('readwrite', (s) => s.delete(key));

/** Upload one photo; resolves ``null`` when stored or the server's refusal, rejects ``Offline`` to try later. */
export function upload(order, file, onProgress) {
  return new Promise((resolve, reject) => {
    const form = new FormData();
    form.append('photo', file);
    const xhr = new XMLHttpRequest();
    xhr.open('POST', `/api/v1/work-orders/${order}/photos`);
    xhr.setRequestHeader('X-CSRF-Token', document.querySelector('meta[name="csrf-token"]')?.content ?? '');
    xhr.setRequestHeader('Accept', 'application/json');
    xhr.timeout = UPLOAD_TIMEOUT_MS;
    xhr.upload.onprogress = (e) => { if (e.lengthComputable) onProgress(Math.round((100 * e.loaded) / e.total)); };
    xhr.onload = () => {
      if (xhr.status === 201) return resolve(null);
      if (xhr.status >= 500 || xhr.status === 429) return reject(new Offline(`HTTP ${xhr.status}`));
      let error = {};
      try { error = JSON.parse(xhr.responseText).error ?? {}; } catch { /* no body: its status is all there is */ }
      return resolve(refusalText({ message: `HTTP ${xhr.status}`, ...error }));
    };
    xhr.onerror = () => reject(new Offline('network'));
    xhr.ontimeout = () => reject(new Offline('timeout'));
    xhr.send(form);
  });
}

/** Send the kept photos, oldest first, until the network fails again; ``report(item, what, value)`` follows
 * each: ``progress`` (percent), ``sent``, ``refused`` (reason). */
export async function sendKept(report) {
  if (draining) return;
  draining = true;
  try {
    for (const item of await waiting()) {
      try {
        const refusal = await upload(item.order, item.file, (p) => report(item, 'progress', p));
        await drop(item.key);
        report(item, refusal ? 'refused' : 'sent', refusal);
      } catch (err) {
        if (err instanceof Offline) return;
        throw err;
      }
    }
  } finally {
    draining = false;
  }
}
