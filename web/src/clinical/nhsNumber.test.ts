import { describe, expect, it } from 'vitest';
import { checkNhsNumber, formatNhsNumber, nhsCheckDigit } from './nhsNumber';

describe('NHS numbers', () => {
  it.each([
    ['9434765919', '9434765919'],
    ['943 476 5919', '9434765919'],
    [' 943  4765919 ', '9434765919'],
    ['4010232137', '4010232137'],
    ['1000000060', '1000000060'], // remainder 11: check digit 0
  ])('accepts %j', (input, digits) => {
    expect(checkNhsNumber(input)).toEqual({ ok: true, digits });
  });

  it.each([
    ['', 'Enter the NHS number'],
    ['   ', 'Enter the NHS number'],
    ['9434765918', 'check digit does not match'],
    ['9434765910', 'check digit does not match'],
    ['1000000010', 'check digit does not match'], // remainder 10: no number with these nine digits is valid
    ['943476591', 'must be 10 numbers; you entered 9'],
    ['94347659190', 'must be 10 numbers; you entered 11'],
    ['943-476-5919', 'numbers only'],
    ['94347659l9', 'numbers only'],
  ])('refuses %j with a clear message', (input, message) => {
    const r = checkNhsNumber(input);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.message).toContain(message);
  });

  it('computes check digits, with none for a remainder of 10', () => {
    expect(nhsCheckDigit('943476591')).toBe(9);
    expect(nhsCheckDigit('100000006')).toBe(0);
    expect(nhsCheckDigit('100000001')).toBeNull();
    expect(nhsCheckDigit('12345678')).toBeNull();
  });

  it('formats 3-3-4 and leaves anything else alone', () => {
    expect(formatNhsNumber('9434765919')).toBe('943 476 5919');
    expect(formatNhsNumber('943476591')).toBe('943476591');
  });
});
