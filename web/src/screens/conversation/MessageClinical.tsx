// Under a message: for my urgent ones, where the escalation stands (live through `escalation`
// events) and what the send warned about; for others' messages, that a copy reached me silently.
import type { ClinicalMessage } from '../../api/clinical';
import type { ChatState } from '../../state/chat';
import { describeEscalation, mergeEscalation } from '../../clinical/escalation';
import { describeWarning } from '../../clinical/warnings';
import { Link } from '../../router';
import { useClinical } from '../../state/clinical';
import { useRoleName } from '../../state/directory';
import { personName } from '../../state/selectors';

export function MessageClinical({ chat, message }: { chat: ChatState; message: ClinicalMessage }) {
  const roleName = useRoleName();
  const clinical = useClinical();
  const mine = message.sender_id === chat.me?.id;
  if (message.deleted) return null;
  if (!mine) {
    return clinical.silent[message.id] ? (
      <p className="app-message__silent">
        <span aria-hidden="true">🔕 </span>Delivered silently: you were off duty
      </p>
    ) : null;
  }
  const escalation = mergeEscalation(message.escalation ?? null, clinical.escalations[message.id]);
  const warnings = clinical.warnings[message.id] ?? message.warnings ?? [];
  const name = (id: string) => personName(chat, id);
  const view = escalation ? describeEscalation(escalation, name) : null;
  return (
    <>
      {view && (
        <p className={`app-escalation app-escalation--${view.tone}`} data-escalation-state={escalation!.state} data-escalation-step={escalation!.step}>
          <strong className="app-escalation__label">{view.label}</strong> <span className="app-escalation__detail">{view.detail}</span>
        </p>
      )}
      {warnings.length > 0 && (
        <ul className="app-send-warnings" aria-label="About who received this message">
          {warnings.map((w, i) => {
            const v = describeWarning(w, message.priority, { person: name, role: roleName });
            return (
              <li key={i} className={`app-send-warning app-send-warning--${v.level}`} data-warning={w.code}>
                <span className="nhsuk-u-visually-hidden">{v.level === 'error' ? 'Warning: ' : 'Note: '}</span>
                {v.text}
                {v.link && (
                  <>
                    {' '}
                    <Link href={v.link.href}>{v.link.label}</Link>
                  </>
                )}
              </li>
            );
          })}
        </ul>
      )}
    </>
  );
}
