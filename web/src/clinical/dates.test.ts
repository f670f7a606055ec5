import { describe, expect, it } from 'vitest';
import { ageOn, checkDateOfBirth, formatDate, isoToLocalInput, localInputToIso } from './dates';

const now = new Date(2026, 0, 15, 12, 0);

describe('dates of birth', () => {
  it('takes day, month and year to YYYY-MM-DD', () => {
    expect(checkDateOfBirth('10', '3', '1945', now)).toEqual({ ok: true, iso: '1945-03-10' });
    expect(checkDateOfBirth(' 1', '01', '2026', now)).toEqual({ ok: true, iso: '2026-01-01' });
  });

  it.each([
    ['', '', '', 'Enter the date of birth'],
    ['10', '', '1945', 'must include a month'],
    ['', '', '1945', 'must include a day and month'],
    ['31', '2', '1945', 'real date'],
    ['10', '13', '1945', 'real date'],
    ['x', '3', '1945', 'as numbers'],
    ['10', '3', '45', 'as numbers'],
    ['10', '3', '1879', '1880 or later'],
    ['16', '1', '2026', 'today or in the past'],
  ])('refuses %j/%j/%j', (d, m, y, message) => {
    const r = checkDateOfBirth(d, m, y, now);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('shows dates and ages the NHS way', () => {
    expect(formatDate('1945-03-10')).toBe('10 March 1945');
    expect(ageOn('1945-03-10', now)).toBe(80);
    expect(ageOn('1945-01-15', now)).toBe(81);
    expect(ageOn('1945-01-16', now)).toBe(80);
  });

  it('round-trips local date-time inputs', () => {
    const local = isoToLocalInput(new Date(2026, 0, 15, 8, 30));
    expect(local).toBe('2026-01-15T08:30');
    expect(new Date(localInputToIso(local)!).getTime()).toBe(new Date(2026, 0, 15, 8, 30).getTime());
    expect(localInputToIso('')).toBeNull();
  });
});
