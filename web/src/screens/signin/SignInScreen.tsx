// Signing in: password (or a passkey alone, where the organisation allows it), then whatever the
// server asks for next (a second factor, a new password, setting one up) before the app opens.
import { useState } from 'react';
import {
  type MfaChallenge,
  beginMfaPasskey,
  beginPasskeyLogin,
  finishMfaPasskey,
  finishPasskeyLogin,
  login,
  loginRecoveryCode,
  loginTotp,
  logout,
  mfaChallenge,
} from '../../api/auth';
import { ApiError, isApiError } from '../../api/client';
import type { LoginOK, User } from '../../api/types';
import { isBrowserCredentialError, passkeyErrorText, passkeysSupported, usePasskey } from '../../api/webauthn';
import { PlainHeader } from '../../components/Header';
import { PageHeading } from '../../components/PageHeading';
import { CredentialsForm } from './CredentialsForm';
import { type EnrolPhase, EnrolStep } from './EnrolStep';
import { PasswordChangeForm } from './PasswordChangeForm';
import { SecondFactorStep } from './SecondFactorStep';
import { type SecondFactorMethod, endedNotices, passkeyLoginErrorText, secondFactorErrorText, signInErrorText } from './messages';

type Step =
  | { kind: 'credentials' }
  | { kind: 'second-factor'; challenge: MfaChallenge; method: SecondFactorMethod }
  // password: the one just typed to sign in ('' after a reload, when it must be asked for again)
  | { kind: 'change-password'; password: string }
  | { kind: 'enrol'; user: User; lockIdleSeconds?: number };

interface Props {
  /** Why the last session ended (from ?ended=), to explain the sign-in screen. */
  endedReason: string | null;
  /** The browser holds a session that must change its password or set up a second factor first. */
  restricted?: 'password' | 'enrol';
  /** Whose restricted session it is. */
  restrictedUser?: User;
  onSignedIn: (user: User, lockIdleSeconds?: number) => void;
}

function asApiError(e: unknown): ApiError {
  return e instanceof ApiError ? e : new ApiError(0, 'unknown', String(e));
}

const HEADINGS: Record<SecondFactorMethod, string> = {
  totp: 'Enter your security code',
  recovery: 'Enter a recovery code',
  passkey: 'Use your passkey',
};

function firstStep(restricted: Props['restricted'], user: User | undefined): Step {
  if (restricted === 'password') return { kind: 'change-password', password: '' };
  if (restricted === 'enrol' && user) return { kind: 'enrol', user };
  return { kind: 'credentials' };
}

export function SignInScreen({ endedReason, restricted, restrictedUser, onSignedIn }: Props) {
  const [step, setStep] = useState<Step>(() => firstStep(restricted, restrictedUser));
  const [email, setEmail] = useState(restrictedUser?.email ?? '');
  const [org, setOrg] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const [enrolPhase, setEnrolPhase] = useState<EnrolPhase>('totp');
  const [notice, setNotice] = useState<string | null>(endedReason ? (endedNotices[endedReason] ?? null) : null);

  function signedIn(ok: LoginOK, password: string) {
    setError(null);
    if (ok.password_change_required) setStep({ kind: 'change-password', password });
    else if (ok.mfa_enrollment_required) setStep({ kind: 'enrol', user: ok.user, lockIdleSeconds: ok.lock_idle_seconds });
    else onSignedIn(ok.user, ok.lock_idle_seconds);
  }

  async function submitCredentials(e: string, password: string, o: string) {
    setEmail(e);
    setOrg(o);
    setBusy(true);
    setNotice(null);
    try {
      signedIn(await login(e, password, o), password);
    } catch (err) {
      const apiErr = asApiError(err);
      const challenge = mfaChallenge(apiErr);
      if (challenge) {
        setError(null);
        const method: SecondFactorMethod = challenge.methods.includes('totp') ? 'totp' : challenge.methods.includes('webauthn') ? 'passkey' : 'recovery';
        setStep({ kind: 'second-factor', challenge, method });
      } else {
        setError(signInErrorText(apiErr, o !== ''));
      }
    } finally {
      setBusy(false);
    }
  }

  // A wrong answer keeps the step (with the token the answer carries); a spent token starts again.
  function secondFactorFailed(err: unknown, step: Extract<Step, { kind: 'second-factor' }>) {
    if (isBrowserCredentialError(err)) {
      setError(passkeyErrorText(err));
      return;
    }
    const apiErr = asApiError(err);
    const text = secondFactorErrorText(apiErr, step.method);
    const again = mfaChallenge(apiErr);
    if (again) {
      setStep({ ...step, challenge: again });
      setError(text);
    } else if (apiErr.code === 'unauthenticated' || apiErr.code === 'locked' || apiErr.code === 'forbidden') {
      setStep({ kind: 'credentials' });
      setError(text);
    } else {
      setError(text);
    }
  }

  async function submitCode(s: Extract<Step, { kind: 'second-factor' }>, method: 'totp' | 'recovery', code: string) {
    setBusy(true);
    try {
      signedIn(await (method === 'totp' ? loginTotp : loginRecoveryCode)(s.challenge.mfaToken, code), '');
    } catch (err) {
      secondFactorFailed(err, s);
    } finally {
      setBusy(false);
    }
  }

  async function submitPasskey(s: Extract<Step, { kind: 'second-factor' }>) {
    setBusy(true);
    setError(null);
    try {
      const { public_key } = await beginMfaPasskey(s.challenge.mfaToken);
      const credential = await usePasskey(public_key);
      signedIn(await finishMfaPasskey(s.challenge.mfaToken, credential), '');
    } catch (err) {
      secondFactorFailed(err, s);
    } finally {
      setBusy(false);
    }
  }

  async function passwordless() {
    setBusy(true);
    setNotice(null);
    setError(null);
    try {
      const { challenge_id, public_key } = await beginPasskeyLogin();
      const credential = await usePasskey(public_key);
      signedIn(await finishPasskeyLogin(challenge_id, credential), '');
    } catch (err) {
      setError(isBrowserCredentialError(err) ? passkeyErrorText(err) : passkeyLoginErrorText(asApiError(err)));
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

  async function cancelRestricted() {
    await logout().catch(() => undefined);
    restart();
  }

  function restart() {
    setStep({ kind: 'credentials' });
    setError(null);
  }

  const heading =
    step.kind === 'second-factor' ? HEADINGS[step.method]
    : step.kind === 'change-password' ? 'Create a new password'
    : step.kind === 'enrol' ? (enrolPhase === 'codes' ? 'Save your recovery codes' : enrolPhase === 'passkey' ? 'Create a passkey' : 'Set up your authenticator app')
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
              {/* A new heading per step takes focus, so screen readers hear where they are. */}
              <PageHeading key={heading}>{heading}</PageHeading>
              {notice && step.kind === 'credentials' && (
                <div className="nhsuk-inset-text" role="status">
                  <p>{notice}</p>
                </div>
              )}
              {step.kind === 'credentials' && (
                <>
                  <CredentialsForm initialEmail={email} initialOrg={org} busy={busy} serverError={error} onSubmit={submitCredentials} />
                  {passkeysSupported() && (
                    <div className="app-passkey-signin">
                      <p className="nhsuk-body-s">Or, if your organisation allows it, sign in without a password:</p>
                      <button className="nhsuk-button nhsuk-button--secondary" type="button" disabled={busy} onClick={() => void passwordless()}>
                        Sign in with a passkey
                      </button>
                    </div>
                  )}
                </>
              )}
              {step.kind === 'second-factor' && (
                <SecondFactorStep
                  challenge={step.challenge}
                  method={step.method}
                  busy={busy}
                  error={error}
                  onMethod={(method) => {
                    setError(null);
                    setStep({ ...step, method });
                  }}
                  onCode={(method, code) => void submitCode(step, method, code)}
                  onPasskey={() => void submitPasskey(step)}
                  onCancel={restart}
                />
              )}
              {step.kind === 'change-password' && (
                <>
                  <p>You are using a temporary password. Choose a new one to continue.</p>
                  <PasswordChangeForm knownCurrent={step.password || undefined} submitLabel="Save new password" onChanged={passwordChanged} />
                  <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={() => void cancelRestricted()}>
                    Cancel and sign out
                  </button>
                </>
              )}
              {step.kind === 'enrol' && (
                <>
                  <EnrolStep onPhase={setEnrolPhase} onDone={() => onSignedIn(step.user, step.lockIdleSeconds)} />
                  {enrolPhase !== 'codes' && (
                    <button className="nhsuk-button nhsuk-button--secondary" type="button" onClick={() => void cancelRestricted()}>
                      Cancel and sign out
                    </button>
                  )}
                </>
              )}
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
