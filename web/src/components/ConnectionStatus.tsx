// Online / reconnecting indicator for the event stream, announced politely when it changes.
import type { ConnectionStatus as Status } from '../state/chat';

const LABELS: Record<Status, string> = {
  online: 'Online',
  connecting: 'Connecting…',
  reconnecting: 'Reconnecting…',
  offline: 'Offline',
};

export function ConnectionStatus({ status }: { status: Status }) {
  return (
    <p className={`app-connection app-connection--${status}`} role="status" aria-live="polite">
      <span className="app-connection__dot" aria-hidden="true" />
      <span className="nhsuk-u-visually-hidden">Connection: </span>
      {LABELS[status]}
    </p>
  );
}
