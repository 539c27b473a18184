// A server's refusal in the reader's language: the page's string for the error class the API names in
// `details.reason` (err_IllegalTransition), else for its code (err_conflict); a failed connection says so. The
// API's English message shows only where the page has neither (its strings: dashboard/strings/errors.py).
import { i18n } from './api.js';

export function refusal(err) {
  const reason = Array.isArray(err?.details) ? null : err?.details?.reason;
  const code = err?.code ?? (err instanceof TypeError ? 'network' : null);
  return i18n[`err_${reason}`] ?? i18n[`err_${code}`] ?? err?.message ?? String(err);
}
