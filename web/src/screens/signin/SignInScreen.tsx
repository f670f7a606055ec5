// Signing in: password, then whatever the server asks for next (second factor, a new password,
// setting up an authenticator) before the app opens.
import { useState } from 'react';
import { type MfaChallenge, login, loginTotp, logout, mfaChallenge } from '../../api/auth';
import { ApiError, isApiError } from '../../api/client';
import type { LoginOK, User } from '../../api/types';
import { PlainHeader } from '../../components/Header';
import { PageHeading } from '../../components/PageHeading';
import { CredentialsForm } from './CredentialsForm';
import { EnrolTotpForm } from './EnrolTotpForm';
import { PasswordChangeForm } from './PasswordChangeForm';
import { TotpForm } from './TotpForm';
import { endedNotices, signInErrorText, totpErrorText } from './messages';

type Step =
  | { kind: 'credentials' }
  | { kind: 'totp'; challenge: MfaChallenge }
  | { kind: 'passkey-only' }
  // password: the one just typed to sign in ('' after a reload, when it must be asked for again)
  | { kind: 'change-password'; password: string }
  | { kind: 'enrol'; ok: LoginOK };

interface Props {
  /** Why the last session ended (from ?ended=), to explain the sign-in screen. */
  endedReason: string | null;
  /** The browser holds a session that must change its password before anything else. */
  mustChangePassword?: boolean;
  initialEmail?: string;
  onSignedIn: (user: User) => void;
}

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'unknown', String(e));
}

export function SignInScreen({ endedReason, mustChangePassword = false, initialEmail = '', onSignedIn }: Props) {
  const [step, setStep] = useState<Step>(mustChangePassword ? { kind: 'change-password', password: '' } : { kind: 'credentials' });
  const [email, setEmail] = useState(initialEmail);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(endedReason ? (endedNotices[endedReason] ?? null) : null);

  function signedIn(ok: LoginOK, password: string) {
    setError(null);
    if (ok.password_change_required) setStep({ kind: 'change-password', password });
    else if (ok.mfa_enrollment_required) setStep({ kind: 'enrol', ok });
    else onSignedIn(ok.user);
  }

  async function submitCredentials(e: string, password: string) {
    setEmail(e);
    setBusy(true);
    setNotice(null);
    try {
      signedIn(await login(e, password), password);
    } catch (err) {
      const apiErr = asApiError(err);
      const challenge = mfaChallenge(apiErr);
      if (challenge && challenge.methods.includes('totp')) {
        setError(null);
        setStep({ kind: 'totp', challenge });
      } else if (challenge) {
        setStep({ kind: 'passkey-only' });
      } else {
        setError(signInErrorText(apiErr));
      }
    } finally {
      setBusy(false);
    }
  }

  async function submitTotp(challenge: MfaChallenge, code: string) {
    setBusy(true);
    try {
      signedIn(await loginTotp(challenge.mfaToken, code), '');
    } catch (err) {
      setError(totpErrorText(asApiError(err)));
    } finally {
      setBusy(false);
    }
  }

  async function passwordChanged() {
    // The server has ended every session of this user, the restricted one too (and cleared its
    // cookie); the logout is for good measure. Sign in afresh with the new password.
    await logout().catch(() => undefined);
    setStep({ kind: 'credentials' });
    setError(null);
    setNotice('Your password has been changed. Sign in with your new password.');
  }

  async function cancelChange() {
    await logout().catch(() => undefined);
    restart();
  }

  function restart() {
    setStep({ kind: 'credentials' });
    setError(null);
  }

  const heading =
    step.kind === 'totp' ? 'Enter your security code'
    : step.kind === 'change-password' ? 'Create a new password'
    : step.kind === 'enrol' ? 'Set up your authenticator app'
    : 'Sign in to Wardline';

  return (
    <>
    <a className="nhsuk-skip-link" href="#maincontent">
      Skip to main content
    </a>
    <PlainHeader />
    <div className="nhsuk-width-container">
      <main className="nhsuk-main-wrapper" id="maincontent" tabIndex={-1}>
        <div className="nhsuk-grid-row">
          <div className="nhsuk-grid-column-two-thirds">
            <PageHeading key={step.kind}>{heading}</PageHeading>
            {notice && step.kind === 'credentials' && (
              <div className="nhsuk-inset-text" role="status">
                <p>{notice}</p>
              </div>
            )}
            {step.kind === 'credentials' && <CredentialsForm initialEmail={email} busy={busy} serverError={error} onSubmit={submitCredentials} />}
            {step.kind === 'totp' && <TotpForm busy={busy} serverError={error} onSubmit={(c) => submitTotp(step.challenge, c)} onCancel={restart} />}
            {step.kind === 'passkey-only' && (
              <>
                <p>Your account signs in with a passkey, which this version of the web app cannot use yet.</p>
                <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={restart}>
                  Back
                </button>
              </>
            )}
            {step.kind === 'change-password' && (
              <>
                <p>You are using a temporary password. Choose a new one to continue.</p>
                <PasswordChangeForm knownCurrent={step.password || undefined} submitLabel="Save new password" onChanged={passwordChanged} />
                <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={() => void cancelChange()}>
                  Cancel and sign out
                </button>
              </>
            )}
            {step.kind === 'enrol' && <EnrolTotpForm onDone={() => onSignedIn(step.ok.user)} />}
          </div>
        </div>
      </main>
    </div>
    </>
  );
}

export function isRestricted(err: unknown): boolean {
  return isApiError(err, 'forbidden');
}
