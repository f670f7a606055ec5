// My account: who I am to the organisation, changing my password, signing out.
import { PageHeading } from '../../components/PageHeading';
import { Link } from '../../router';
import { useSession } from '../../state/SessionContext';
import { PasswordChangeForm } from '../signin/PasswordChangeForm';
import { DutySection } from './DutySection';

const ROLE_LABELS: Record<string, string> = { member: 'Staff member', admin: 'Administrator', auditor: 'Information governance auditor' };

export function MeScreen() {
  const session = useSession();
  const { me } = session;


  const rows: [string, string][] = [
    ['Name', me.display_name],
    ['Email address', me.email],
    ['Job title', me.job_title],
    ['Profession', me.profession],
    ['Professional registration', me.registration || 'None recorded'],
    ['Role in Wardline', ROLE_LABELS[me.org_role] ?? me.org_role],
  ];

  return (
    <>
      <PageHeading>My account</PageHeading>
      <dl className="nhsuk-summary-list">
        {rows.map(([k, v]) => (
          <div className="nhsuk-summary-list__row" key={k}>
            <dt className="nhsuk-summary-list__key">{k}</dt>
            <dd className="nhsuk-summary-list__value">{v || 'Not recorded'}</dd>
          </div>
        ))}
      </dl>
      <p className="nhsuk-body-s">Your administrator keeps these details up to date.</p>

      {me.org_role !== 'auditor' && <DutySection />}

      <h2 className="nhsuk-heading-m">Change your password</h2>
      <p>Changing your password signs you out everywhere, on this device too. Then sign in with the new one.</p>
      {/* The session ends with the change; Session.changePassword takes the app to sign-in. */}
      <PasswordChangeForm change={(current, next) => session.changePassword(current, next)} onChanged={() => undefined} />

      <h2 className="nhsuk-heading-m">Sign-in and security</h2>
      <p>Your screen lock PIN, authenticator app, recovery codes, passkeys, and the devices where you are signed in.</p>
      <p>
        <Link href="/me/security">Manage sign-in and security</Link>
      </p>

      <h2 className="nhsuk-heading-m">Sign out</h2>
      <p>Signing out clears Wardline from this device.</p>
      <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={() => void session.signOut()}>
        Sign out
      </button>
    </>
  );
}
