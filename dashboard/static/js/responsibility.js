// Responsibility list: table view; admins edit the JSON document and save a new version.
import { api, el } from './api.js';

const table = document.getElementById('resp-table');
const editor = document.getElementById('resp-editor');
const status = document.getElementById('resp-status');

function entriesOf(doc) { return Array.isArray(doc) ? doc : doc?.entries ?? doc?.items ?? []; }

let baseVersion = null;

async function load() {
  const doc = await api('/api/v1/responsibility');
  baseVersion = doc.version;
  const rows = entriesOf(doc);
  const cols = [...new Set(rows.flatMap((r) => Object.keys(r)))].filter((c) => typeof rows[0]?.[c] !== 'object').slice(0, 9);
  table.tHead.replaceChildren(el('tr', {}, cols.map((c) => el('th', {}, c))));
  table.tBodies[0].replaceChildren(...rows.map((r) => el('tr', {}, cols.map((c) => el('td', {}, String(r[c] ?? ''))))));
  if (editor) editor.value = JSON.stringify(doc.body, null, 2);
}

document.getElementById('resp-save')?.addEventListener('click', async () => {
  try {
    await api('/api/v1/responsibility', { method: 'PUT', body: { document: JSON.parse(editor.value), base_version: baseVersion } });
    status.textContent = '✓';
    await load();
  } catch (err) { status.textContent = err.message; }
});

load().catch((err) => { status && (status.textContent = err.message); });
