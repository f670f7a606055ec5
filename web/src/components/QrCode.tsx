// A QR code as inline SVG (see qr.ts), scaled by CSS to its box.
import { useMemo } from 'react';
import { qrModules, qrPath } from './qr';

export function QrCode({ value, label }: { value: string; label: string }) {
  const { size, d } = useMemo(() => {
    const m = qrModules(value);
    return { size: m.length, d: qrPath(m) };
  }, [value]);
  return (
    <svg className="app-qr" viewBox={`0 0 ${size} ${size}`} role="img" aria-label={label} shapeRendering="crispEdges" xmlns="http://www.w3.org/2000/svg">
      <rect width={size} height={size} fill="#fff" />
      <path d={d} fill="#000" />
    </svg>
  );
}
