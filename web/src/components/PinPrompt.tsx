// Shown when the idle time passed but the screen could not lock: the account has neither a PIN
// nor a passkey to unlock with. Leaving Wardline open on a shared PC is the risk it names.
import { Link } from '../router';

export function PinPrompt() {
  return (
    <div className="nhsuk-warning-callout app-pin-prompt" role="status">
      <h2 className="nhsuk-warning-callout__label">
        <span role="text">
          <span className="nhsuk-u-visually-hidden">Important: </span>Set a PIN to lock this screen
        </span>
      </h2>
      <p>
        Wardline locks your screen when you leave it for a while, but you have no PIN to unlock it with yet, so it stayed open.{' '}
        <Link href="/me/security">Set a PIN</Link> so that nobody else can read your messages on this device.
      </p>
    </div>
  );
}
