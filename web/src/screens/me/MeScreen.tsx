// My account: who I am to the organisation, changing my password, signing out.
import { useState } from 'react';
import { logout } from '../../api/auth';
import { PageHeading } from '../../components/PageHeading';
import { useSession } from '../../state/SessionContext';
import { eraseAndReload } from '../../state/wipe';
import { PasswordChangeForm } from '../signin/PasswordChangeForm';

const ROLE_LABELS: Record<string, string> = { member: 'Staff member', admin: 'Administrator', auditor: 'Information governance auditor' };

export function MeScreen() {
  const { me } = useSession();
  const [changed, setChanged] = useState(false);
  const [formKey, setFormKey] = useState(0);

  async function signOut() {
    await logout().catch(() => undefined);
    eraseAndReload('signed-out');
  }

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

      <h2 className="nhsuk-heading-m">Change your password</h2>
      {changed && (
        <div className="nhsuk-inset-text" role="status">
          <p>Your password has been changed.</p>
        </div>
      )}
      <PasswordChangeForm
        key={formKey}
        onChanged={() => {
          setChanged(true);
          setFormKey((k) => k + 1);
        }}
      />

      {/* Sessions and devices, passkeys, PIN and duty status arrive here with their features. */}
      <h2 className="nhsuk-heading-m">Sign out</h2>
      <p>Signing out clears Wardline from this device.</p>
      <button type="button" className="nhsuk-button nhsuk-button--secondary" onClick={signOut}>
        Sign out
      </button>
    </>
  );
}
