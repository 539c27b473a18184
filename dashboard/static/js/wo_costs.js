// Labour and parts as a person types them, for the crew's finish card and the control room's cost entry:
// parts as "门锁开关 x1 ¥120, 螺栓 x4 ¥2.50" (quantity and unit price optional), amounts in yuan to the fen.
// Sums are counted in whole fen, never in floating yuan; the server recomputes and records the truth.

const AMOUNT = /^\d+(?:\.\d{1,2})?$/;
const PART = /^(.*?)\s*(?:[x×*]\s*(\d+(?:\.\d+)?))?\s*(?:[¥￥@]\s*(\d+(?:\.\d{1,2})?))?\s*元?$/i;

/** Whether `text` is an amount in yuan with at most two decimals ("450", "450.5", "0.00"). */
export const isAmount = (text) => AMOUNT.test(text);

/** Yuan as whole fen: "12.5" → 1250. */
export function fen(text) {
  const [yuan, cents = ''] = String(text).split('.');
  return Number(yuan) * 100 + Number(cents.padEnd(2, '0').slice(0, 2));
}

/** Whole fen as yuan with two decimals: 1250 → "12.50". */
export const yuan = (cents) => `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;

/** The parts typed in `text` as the API takes them ({ name, quantity, unit_cost? }) with their total in fen;
 * null when one cannot be read (a name is missing). An empty text is no parts. */
export function readParts(text) {
  const items = text.trim() ? text.split(/[,，;；]/).map((p) => p.trim()).filter(Boolean) : [];
  const parts = [];
  let total = 0;
  for (const item of items) {
    const [, name, quantity = '1', price] = item.match(PART) ?? [];
    if (!name) return null;
    parts.push(price ? { name, quantity, unit_cost: price } : { name, quantity });
    total += Math.round(Number(quantity) * (price ? fen(price) : 0));
  }
  return { parts, total };
}

/** Parts as a line to read back: "门锁开关 ×1 ¥120、螺栓 ×4". */
export const partsLine = (parts) => parts.map((p) => `${p.name} ×${p.quantity}${p.unit_cost ? ` ¥${p.unit_cost}` : ''}`)
  .join('、');
