// The NHS date input pattern for a date of birth: day, month and year in three boxes, one fieldset.
export interface DateParts {
  day: string;
  month: string;
  year: string;
}

export const emptyDate: DateParts = { day: '', month: '', year: '' };

export function DateOfBirthField({ id, value, onChange, error, legend = 'Date of birth' }: { id: string; value: DateParts; onChange: (v: DateParts) => void; error?: string; legend?: string }) {
  const describedBy = `${id}-hint${error ? ` ${id}-error` : ''}`;
  const part = (key: keyof DateParts, label: string, width: 2 | 4) => (
    <div className="nhsuk-date-input__item">
      <div className="nhsuk-form-group">
        <label className="nhsuk-label nhsuk-date-input__label" htmlFor={key === 'day' ? id : `${id}-${key}`}>
          {label}
        </label>
        <input
          className={`nhsuk-input nhsuk-date-input__input nhsuk-input--width-${width}${error ? ' nhsuk-input--error' : ''}`}
          id={key === 'day' ? id : `${id}-${key}`}
          name={`${id}-${key}`}
          type="text"
          inputMode="numeric"
          // Patient details are never kept by the browser's form memory.
          autoComplete="off"
          value={value[key]}
          onChange={(e) => onChange({ ...value, [key]: e.target.value })}
        />
      </div>
    </div>
  );
  return (
    <div className={`nhsuk-form-group${error ? ' nhsuk-form-group--error' : ''}`}>
      <fieldset className="nhsuk-fieldset" role="group" aria-describedby={describedBy}>
        <legend className="nhsuk-fieldset__legend nhsuk-fieldset__legend--s">{legend}</legend>
        <div className="nhsuk-hint" id={`${id}-hint`}>
          For example, 10 3 1945
        </div>
        {error && (
          <span className="nhsuk-error-message" id={`${id}-error`}>
            <span className="nhsuk-u-visually-hidden">Error:</span> {error}
          </span>
        )}
        <div className="nhsuk-date-input">
          {part('day', 'Day', 2)}
          {part('month', 'Month', 2)}
          {part('year', 'Year', 4)}
        </div>
      </fieldset>
    </div>
  );
}
