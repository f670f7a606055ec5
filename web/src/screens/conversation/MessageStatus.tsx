// Ticks on my own messages: sent, delivered, read, and who acknowledged.
import type { Ticks } from '../../state/selectors';

export function MessageStatus({ ticks, requiresAck }: { ticks: Ticks; requiresAck: boolean }) {
  const marks = ticks.level === 0 ? '✓' : '✓✓';
  return (
    <span className="app-message__status">
      <span className={`app-ticks app-ticks--${ticks.level}`} aria-hidden="true">
        {marks}
      </span>{' '}
      {ticks.label}
      {requiresAck && ticks.ackTotal > 0 && (
        <strong className={`nhsuk-tag app-tag-small ${ticks.acked === ticks.ackTotal ? 'nhsuk-tag--green' : 'nhsuk-tag--yellow'}`}>
          {ticks.acked === ticks.ackTotal ? 'Acknowledged' : ticks.acked === 0 ? 'Awaiting acknowledgement' : `Acknowledged by ${ticks.acked} of ${ticks.ackTotal}`}
        </strong>
      )}
    </span>
  );
}
