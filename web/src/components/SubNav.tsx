// Secondary navigation between the screens of one console (clinical setup, IG).
import { Link, usePath } from '../router';

export function SubNav({ label, items }: { label: string; items: { href: string; text: string; badge?: number }[] }) {
  const path = usePath();
  return (
    <nav className="app-subnav" aria-label={label}>
      <ul className="app-subnav__list">
        {items.map((it) => {
          const current = path === it.href;
          return (
            <li key={it.href} className={`app-subnav__item${current ? ' app-subnav__item--current' : ''}`}>
              <Link className="app-subnav__link" href={it.href} aria-current={current ? 'page' : undefined}>
                {it.text}
                {it.badge ? (
                  <span className="app-subnav__badge">
                    {it.badge}
                    <span className="nhsuk-u-visually-hidden"> new</span>
                  </span>
                ) : null}
              </Link>
            </li>
          );
        })}
      </ul>
    </nav>
  );
}

export function AdminNav() {
  return (
    <SubNav
      label="Clinical setup"
      items={[
        { href: '/admin/roles', text: 'Roles and rotas' },
        { href: '/admin/clinical-policy', text: 'Clinical policy' },
        { href: '/ig/alert-policy', text: 'Alert policy' },
        { href: '/admin/policy', text: 'Sign-in policy' },
      ]}
    />
  );
}
