import { describe, expect, it } from 'vitest';
import { describeWarning } from './warnings';

const n = {
  person: (id: string) => ({ tom: 'Dr Tom Hughes' })[id] ?? 'Someone',
  role: (id: string) => ({ reg: 'On-call registrar', night: 'Night nurse' })[id] ?? 'a role',
};

describe('send warnings', () => {
  it('routine to someone off duty: reached silently, the covering role suggested', () => {
    expect(describeWarning({ code: 'recipient_off_duty', user_id: 'tom', covering_role_id: 'reg' }, 'routine', n)).toEqual({
      level: 'info',
      text: 'Dr Tom Hughes is off duty: the message reached them silently, without an alert. On-call registrar covers for them.',
      link: { href: '/roles/reg', label: 'Message On-call registrar' },
    });
    expect(describeWarning({ code: 'recipient_off_duty', user_id: 'tom', covering_role_id: null }, 'routine', n)).toEqual({
      level: 'info',
      text: 'Dr Tom Hughes is off duty: the message reached them silently, without an alert.',
    });
  });

  it('urgent to someone off duty: forwarded to the covering role, or alerted anyway', () => {
    expect(describeWarning({ code: 'recipient_off_duty', user_id: 'tom', covering_role_id: 'reg', conversation_id: 'c9' }, 'urgent', n)).toEqual({
      level: 'info',
      text: 'Dr Tom Hughes is off duty, so the urgent message also went to On-call registrar, who covers for them.',
      link: { href: '/conversations/c9', label: 'Open the conversation with On-call registrar' },
    });
    expect(describeWarning({ code: 'recipient_off_duty', user_id: 'tom', covering_role_id: null }, 'emergency', n).text).toBe(
      'Dr Tom Hughes is off duty and no role covers for them, so they were alerted anyway.',
    );
  });

  it('a role nobody holds, and nobody reached at all', () => {
    expect(describeWarning({ code: 'role_not_held', user_id: null, covering_role_id: 'reg', role_id: 'night' }, 'urgent', n)).toEqual({
      level: 'info',
      text: 'Nobody holds Night nurse now, so the message went to its fallback, On-call registrar.',
      link: { href: '/roles/reg', label: 'See who holds On-call registrar' },
    });
    expect(describeWarning({ code: 'nobody_reached', user_id: null, covering_role_id: null, role_id: 'night' }, 'routine', n)).toEqual({
      level: 'error',
      text: 'Nobody holds Night nurse or any fallback role: nobody has received this message. Phone or bleep someone instead.',
    });
  });

  it('an unknown code still says something', () => {
    expect(describeWarning({ code: 'later_code', user_id: null, covering_role_id: null }, 'routine', n).level).toBe('info');
  });
});
