// QR codes drawn by the page itself (the otpauth:// URL holds the TOTP secret, so it must never
// go to an outside service). The qr package (zero dependencies) computes the modules; this turns
// them into one SVG path, with no inline style for the CSP to refuse.
import encodeQR from 'qr';

/** The modules of a QR code for text, quiet zone (4 modules) included; true is dark. */
export function qrModules(text: string): boolean[][] {
  return encodeQR(text, 'raw', { ecc: 'medium', border: 4 });
}

/** An SVG path drawing the dark modules, one rectangle per horizontal run, in module units. */
export function qrPath(modules: boolean[][]): string {
  const parts: string[] = [];
  modules.forEach((row, y) => {
    let x = 0;
    while (x < row.length) {
      if (!row[x]) {
        x++;
        continue;
      }
      const start = x;
      while (x < row.length && row[x]) x++;
      parts.push(`M${start} ${y}h${x - start}v1h${start - x}z`);
    }
  });
  return parts.join('');
}
