// NHS numbers: 10 digits, the last a Modulus 11 check digit over the first nine (weights 10..2).
// Accepted with or without spaces, shown as "943 476 5919". The server checks again; checking
// here gives the person a clear message before anything is sent.

export type NhsNumberCheck = { ok: true; digits: string } | { ok: false; message: string };

/** The check digit for nine digits, or null when there is none (a remainder of 10: no valid number). */
export function nhsCheckDigit(nine: string): number | null {
  if (!/^\d{9}$/.test(nine)) return null;
  let sum = 0;
  for (let i = 0; i < 9; i++) sum += Number(nine[i]) * (10 - i);
  const check = 11 - (sum % 11);
  if (check === 11) return 0;
  if (check === 10) return null;
  return check;
}

/** Validates what someone typed; spaces are allowed anywhere, nothing else but digits. */
export function checkNhsNumber(input: string): NhsNumberCheck {
  const digits = input.replace(/\s+/g, '');
  if (digits === '') return { ok: false, message: 'Enter the NHS number' };
  if (!/^\d+$/.test(digits)) return { ok: false, message: 'Enter the NHS number using numbers only, for example 943 476 5919' };
  if (digits.length !== 10) return { ok: false, message: `The NHS number must be 10 numbers; you entered ${digits.length}` };
  if (nhsCheckDigit(digits.slice(0, 9)) !== Number(digits[9])) {
    return { ok: false, message: 'This is not a valid NHS number: its check digit does not match. Check it and enter it again' };
  }
  return { ok: true, digits };
}

/** "9434765919" → "943 476 5919"; anything that is not 10 digits is returned as it is. */
export function formatNhsNumber(digits: string): string {
  return /^\d{10}$/.test(digits) ? `${digits.slice(0, 3)} ${digits.slice(3, 6)} ${digits.slice(6)}` : digits;
}
