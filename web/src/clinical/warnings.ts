// The warnings a send answers with, in words for the sender: someone was off duty (and which role
// covers), a role nobody holds (and which fallback got it), or nobody reached at all.
import type { Priority } from '../api/types';
import type { Warning } from '../api/clinical';

export interface WarningView {
  /** How serious: nobody reached is an error; the rest inform. */
  level: 'error' | 'info';
  text: string;
  /** Somewhere to go next: the covering role, or the conversation the message was forwarded to. */
  link?: { href: string; label: string };
}

export interface Names {
  person: (userId: string) => string;
  role: (roleId: string) => string;
}

export function describeWarning(w: Warning, priority: Priority, n: Names): WarningView {
  const who = w.user_id ? n.person(w.user_id) : 'A recipient';
  const cover = w.covering_role_id ? n.role(w.covering_role_id) : null;
  switch (w.code) {
    case 'recipient_off_duty': {
      if (priority === 'routine') {
        return {
          level: 'info',
          text: `${who} is off duty: the message reached them silently, without an alert.${cover ? ` ${cover} covers for them.` : ''}`,
          ...(w.covering_role_id ? { link: { href: `/roles/${encodeURIComponent(w.covering_role_id)}`, label: `Message ${cover}` } } : {}),
        };
      }
      if (cover) {
        return {
          level: 'info',
          text: `${who} is off duty, so the ${priority} message also went to ${cover}, who covers for them.`,
          link: w.conversation_id
            ? { href: `/conversations/${encodeURIComponent(w.conversation_id)}`, label: `Open the conversation with ${cover}` }
            : { href: `/roles/${encodeURIComponent(w.covering_role_id!)}`, label: `See who holds ${cover}` },
        };
      }
      return { level: 'info', text: `${who} is off duty and no role covers for them, so they were alerted anyway.` };
    }
    case 'role_not_held': {
      const role = w.role_id ? n.role(w.role_id) : 'The role';
      return {
        level: 'info',
        text: `Nobody holds ${role} now, so the message went to its fallback${cover ? `, ${cover}` : ''}.`,
        ...(w.covering_role_id ? { link: { href: `/roles/${encodeURIComponent(w.covering_role_id)}`, label: `See who holds ${cover}` } } : {}),
      };
    }
    case 'nobody_reached': {
      const role = w.role_id ? n.role(w.role_id) : 'the role';
      return {
        level: 'error',
        text: `Nobody holds ${role} or any fallback role: nobody has received this message. Phone or bleep someone instead.`,
      };
    }
    default:
      return { level: 'info', text: 'The server noted something about who received this message.' };
  }
}
