// The NHS error summary: a list of problems, each linking to its field; focused when it appears.
import { type MouseEvent, useEffect, useRef } from 'react';

function focusField(e: MouseEvent, id: string) {
  const el = document.getElementById(id);
  if (!el) return;
  e.preventDefault();
  el.focus();
}

export interface Problem {
  /** Id of the field the problem is about, to link to it. */
  field?: string;
  text: string;
}

export function ErrorSummary({ problems, title = 'There is a problem' }: { problems: Problem[]; title?: string }) {
  const ref = useRef<HTMLDivElement>(null);
  const key = problems.map((p) => p.text).join('\n');
  useEffect(() => {
    if (key) ref.current?.focus();
  }, [key]);
  if (problems.length === 0) return null;
  return (
    <div className="nhsuk-error-summary" ref={ref} tabIndex={-1} aria-labelledby="error-summary-title">
      <div role="alert">
        <h2 className="nhsuk-error-summary__heading" id="error-summary-title">
          {title}
        </h2>
        <div className="nhsuk-error-summary__body">
          <ul className="nhsuk-list nhsuk-error-summary__list">
            {problems.map((p) => (
              <li key={p.text}>
                {p.field ? (
                  <a href={`#${p.field}`} onClick={(e) => focusField(e, p.field!)}>
                    {p.text}
                  </a>
                ) : (
                  p.text
                )}
              </li>
            ))}
          </ul>
        </div>
      </div>
    </div>
  );
}
