// The conversation list's filters: status, category, linked to a patient, urgent only. Search
// over titles stays beside them. Nothing here is remembered beyond the page.
import { useEffect, useState } from 'react';
import { BUILTIN_CATEGORIES, getClinicalPolicy } from '../../api/clinical';
import type { ListFilters } from '../../clinical/filters';
import { categoryLabel } from '../conversation/ClinicalPanel';

export function ConversationFilters({ value, onChange }: { value: ListFilters; onChange: (f: ListFilters) => void }) {
  const [categories, setCategories] = useState<string[]>([...BUILTIN_CATEGORIES]);
  useEffect(() => {
    getClinicalPolicy().then((p) => setCategories([...BUILTIN_CATEGORIES, ...(p.categories ?? [])]), () => undefined);
  }, []);
  const set = (patch: Partial<ListFilters>) => onChange({ ...value, ...patch });
  return (
    <details className="nhsuk-details app-list-filters" open={value.status !== 'all' || value.category !== '' || value.patientOnly || value.urgentOnly ? true : undefined}>
      <summary className="nhsuk-details__summary">
        <span className="nhsuk-details__summary-text">Filter conversations</span>
      </summary>
      <div className="nhsuk-details__text app-filters">
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="filter-status">
            Status
          </label>
          <select className="nhsuk-select" id="filter-status" value={value.status} onChange={(e) => set({ status: e.target.value as ListFilters['status'] })}>
            <option value="all">Open and resolved</option>
            <option value="open">Open</option>
            <option value="resolved">Resolved</option>
          </select>
        </div>
        <div className="nhsuk-form-group">
          <label className="nhsuk-label" htmlFor="filter-category">
            Category
          </label>
          <select className="nhsuk-select" id="filter-category" value={value.category} onChange={(e) => set({ category: e.target.value })}>
            <option value="">Any</option>
            <option value="none">No category</option>
            {categories.map((c) => (
              <option key={c} value={c}>
                {categoryLabel(c)}
              </option>
            ))}
          </select>
        </div>
        <div className="nhsuk-checkboxes nhsuk-checkboxes--small app-list-filters__checks">
          <div className="nhsuk-checkboxes__item">
            <input className="nhsuk-checkboxes__input" id="filter-patient" type="checkbox" checked={value.patientOnly} onChange={(e) => set({ patientOnly: e.target.checked })} />
            <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="filter-patient">
              About a patient
            </label>
          </div>
          <div className="nhsuk-checkboxes__item">
            <input className="nhsuk-checkboxes__input" id="filter-urgent" type="checkbox" checked={value.urgentOnly} onChange={(e) => set({ urgentOnly: e.target.checked })} />
            <label className="nhsuk-label nhsuk-checkboxes__label" htmlFor="filter-urgent">
              Urgent, awaiting acknowledgement
            </label>
          </div>
        </div>
      </div>
    </details>
  );
}
