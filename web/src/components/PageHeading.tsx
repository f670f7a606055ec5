// The page's h1: sets the document title and takes focus when the screen changes, so screen
// reader and keyboard users start at the top of the new screen.
import { type ReactNode, useEffect, useRef } from 'react';

// The first screen after a page load leaves focus where the browser put it, so that the skip
// link stays the first tab stop.
let firstScreen = true;

export function PageHeading({ children, title, className }: { children: ReactNode; title?: string; className?: string }) {
  const ref = useRef<HTMLHeadingElement>(null);
  const text = title ?? (typeof children === 'string' ? children : '');
  useEffect(() => {
    document.title = text ? `${text} – Wardline` : 'Wardline';
  }, [text]);
  useEffect(() => {
    if (firstScreen) {
      firstScreen = false;
      return;
    }
    // Only move focus when nothing inside main already has it (e.g. after a route change).
    const active = document.activeElement;
    if (!active || active === document.body || !document.getElementById('maincontent')?.contains(active)) {
      ref.current?.focus({ preventScroll: true });
    }
  }, []);
  return (
    <h1 ref={ref} tabIndex={-1} className={className ?? 'nhsuk-heading-l'}>
      {children}
    </h1>
  );
}
