// Dates of birth as the NHS date input pattern takes them (day, month, year in three boxes) and
// shows them ("10 March 1945"), and the local date-time fields of rotas and duty statuses.

export type DateCheck = { ok: true; iso: string } | { ok: false; message: string };

/** Day, month and year as typed, to YYYY-MM-DD: a real date, not in the future, not before 1880. */
export function checkDateOfBirth(day: string, month: string, year: string, now: Date = new Date()): DateCheck {
  const [d, m, y] = [day.trim(), month.trim(), year.trim()];
  if (!d && !m && !y) return { ok: false, message: 'Enter the date of birth' };
  if (!d || !m || !y) return { ok: false, message: `The date of birth must include a ${[!d && 'day', !m && 'month', !y && 'year'].filter(Boolean).join(' and ')}` };
  if (!/^\d{1,2}$/.test(d) || !/^\d{1,2}$/.test(m) || !/^\d{4}$/.test(y)) {
    return { ok: false, message: 'Enter the date of birth as numbers, for example 10 3 1945' };
  }
  const dn = Number(d);
  const mn = Number(m);
  const yn = Number(y);
  const date = new Date(Date.UTC(yn, mn - 1, dn));
  if (mn < 1 || mn > 12 || date.getUTCDate() !== dn || date.getUTCMonth() !== mn - 1) {
    return { ok: false, message: 'The date of birth must be a real date' };
  }
  if (yn < 1880) return { ok: false, message: 'The year of birth must be 1880 or later' };
  const today = Date.UTC(now.getFullYear(), now.getMonth(), now.getDate());
  if (date.getTime() > today) return { ok: false, message: 'The date of birth must be today or in the past' };
  return { ok: true, iso: `${y}-${String(mn).padStart(2, '0')}-${String(dn).padStart(2, '0')}` };
}

const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** "1945-03-10" → "10 March 1945" (the NHS style); anything else is returned as it is. */
export function formatDate(iso: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return iso;
  return `${Number(m[3])} ${MONTHS[Number(m[2]) - 1] ?? m[2]} ${m[1]}`;
}

/** Whole years between a YYYY-MM-DD date of birth and now. */
export function ageOn(iso: string, now: Date = new Date()): number | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(iso);
  if (!m) return null;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  let age = now.getFullYear() - y;
  if (now.getMonth() + 1 < mo || (now.getMonth() + 1 === mo && now.getDate() < d)) age--;
  return age;
}

/** The value of an <input type="datetime-local"> (local time) as an RFC 3339 instant, or null. */
export function localInputToIso(value: string): string | null {
  if (!/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/.test(value)) return null;
  const d = new Date(value);
  return Number.isNaN(d.getTime()) ? null : d.toISOString();
}

/** An instant as the value of an <input type="datetime-local"> in local time. */
export function isoToLocalInput(iso: string | Date): string {
  const d = typeof iso === 'string' ? new Date(iso) : iso;
  const pad = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}
