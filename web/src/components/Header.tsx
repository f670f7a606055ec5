// NHS header with the service name, the signed-in person and the navigation from the routes table.
import type { User } from '../api/types';
import { Link } from '../router';
import { DutyBadge } from './DutyBadge';
import { allowed, findRoute, routes } from '../routes';

export function Header({ me, path, onSignOut }: { me: User; path: string; onSignOut: () => void }) {
  const found = findRoute(path)?.route;
  const current = found?.path;
  const nav = routes.filter((r) => r.nav && allowed(r, me.org_role));
  return (
    <header className="nhsuk-header" role="banner">
      <div className="nhsuk-header__container nhsuk-width-container">
        <div className="nhsuk-header__service">
          <Link className="nhsuk-header__service-logo app-header__service" href="/" aria-label="Wardline conversations">
            <span className="nhsuk-header__service-name">Wardline</span>
          </Link>
          {/* Someone with accounts in two organisations sees which one this is. */}
          {me.org_name && <span className="app-header__org">{me.org_name}</span>}
        </div>
        <nav className="nhsuk-header__account" aria-label="Account">
          <ul className="nhsuk-header__account-list">
            <li className="nhsuk-header__account-item">
              <DutyBadge />
            </li>
            <li className="nhsuk-header__account-item">
              <Link className="nhsuk-header__account-link" href="/me">
                {me.display_name}
              </Link>
            </li>
            <li className="nhsuk-header__account-item">
              <button type="button" className="nhsuk-header__account-button" onClick={onSignOut}>
                Sign out
              </button>
            </li>
          </ul>
        </nav>
      </div>
      <nav className="nhsuk-header__navigation" aria-label="Menu">
        <div className="nhsuk-header__navigation-container nhsuk-width-container">
          <ul className="nhsuk-header__navigation-list">
            {nav.map((r) => {
              const isCurrent = r.path === current || (r.path === '/' && current?.startsWith('/conversations')) || r.path === found?.section;
              return (
                <li key={r.path} className={`nhsuk-header__navigation-item${isCurrent ? ' nhsuk-header__navigation-item--current' : ''}`}>
                  <Link className="nhsuk-header__navigation-link" href={r.path} aria-current={isCurrent ? 'page' : undefined}>
                    {r.nav}
                  </Link>
                </li>
              );
            })}
          </ul>
        </div>
      </nav>
    </header>
  );
}

/** The header before signing in: the service name only. */
export function PlainHeader() {
  return (
    <header className="nhsuk-header" role="banner">
      <div className="nhsuk-header__container nhsuk-width-container">
        <div className="nhsuk-header__service">
          <span className="nhsuk-header__service-logo app-header__service">
            <span className="nhsuk-header__service-name">Wardline</span>
          </span>
        </div>
      </div>
    </header>
  );
}
