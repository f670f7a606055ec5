import decodeQR from 'qr/decode.js';
import { describe, expect, it } from 'vitest';
import { qrModules, qrPath } from './qr';

// Paints the modules as an RGBA image, as a camera would see the screen, and reads it back.
function decode(modules: boolean[][], scale = 4): string {
  const n = modules.length * scale;
  const data = new Uint8Array(n * n * 4);
  for (let y = 0; y < n; y++)
    for (let x = 0; x < n; x++) {
      const v = modules[Math.floor(y / scale)]![Math.floor(x / scale)] ? 0 : 255;
      data.set([v, v, v, 255], (y * n + x) * 4);
    }
  return decodeQR({ width: n, height: n, data });
}

describe('QR code', () => {
  const url = 'otpauth://totp/Wardline:ada%40example.nhs.uk?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Wardline&algorithm=SHA1&digits=6&period=30';

  it('encodes the otpauth URL so that a reader gets it back exactly', () => {
    expect(decode(qrModules(url))).toBe(url);
  });

  it('keeps a quiet zone of 4 light modules around the code', () => {
    const m = qrModules(url);
    for (const row of [...m.slice(0, 4), ...m.slice(-4)]) expect(row.every((v) => !v)).toBe(true);
    for (const row of m) expect([...row.slice(0, 4), ...row.slice(-4)].every((v) => !v)).toBe(true);
  });

  it('draws one rectangle per run of dark modules, which redraws the same modules', () => {
    const m = qrModules(url);
    const d = qrPath(m);
    const drawn = m.map((row) => row.map(() => false));
    for (const [, x, y, w] of d.matchAll(/M(\d+) (\d+)h(\d+)v1h-\d+z/g)) {
      for (let i = 0; i < Number(w); i++) drawn[Number(y)]![Number(x) + i] = true;
    }
    expect(drawn).toEqual(m);
    expect(qrPath([[true, true, false, true]])).toBe('M0 0h2v1h-2zM3 0h1v1h-1z');
  });
});
