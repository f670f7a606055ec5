import { describe, expect, it } from 'vitest';
import type { Escalation } from '../api/clinical';
import { describeEscalation, mergeEscalation } from './escalation';

const names: Record<string, string> = { tom: 'Dr Tom Hughes', priya: 'Dr Priya Shah', reg: 'Dr Ray Green' };
const name = (id: string) => names[id] ?? 'Someone';
const now = new Date('2026-01-15T10:00:00Z');
const at = (min: number) => new Date(now.getTime() + min * 60_000).toISOString();

const sent: Escalation = { state: 'pending', step: 0, next_at: at(5), notified: ['tom'] };

describe('escalation state', () => {
  it('folds a step event in: step and next time move on, the alerted add up', () => {
    const step1 = mergeEscalation(sent, { state: 'pending', step: 1, next_at: at(10), notified: ['tom', 'reg'] });
    expect(step1).toEqual({ state: 'pending', step: 1, next_at: at(10), notified: ['tom', 'reg'] });
    // An older copy of the message (history fetched before the event) does not undo it.
    expect(mergeEscalation(step1, sent)).toEqual(step1);
  });

  it('an acknowledgement at the same step wins, and nothing later brings it back to pending', () => {
    const acked = mergeEscalation(sent, { state: 'acknowledged', step: 0, next_at: null, notified: [] });
    expect(acked).toEqual({ state: 'acknowledged', step: 0, next_at: null, notified: ['tom'] });
    expect(mergeEscalation(acked, sent)?.state).toBe('acknowledged');
  });

  it('takes what there is when one side is missing', () => {
    expect(mergeEscalation(null, sent)).toBe(sent);
    expect(mergeEscalation(sent, undefined)).toBe(sent);
    expect(mergeEscalation(null, null)).toBeNull();
  });

  it('tells the sender where it stands', () => {
    const tz = (iso: string) => new Date(iso).toLocaleTimeString('en-GB', { hour: '2-digit', minute: '2-digit' });
    expect(describeEscalation(sent, name, now)).toEqual({
      tone: 'waiting',
      label: 'Escalates if not acknowledged',
      detail: `Alerted so far: Dr Tom Hughes. If nobody acknowledges it, it escalates at ${tz(at(5))}.`,
    });
    expect(describeEscalation({ state: 'pending', step: 2, next_at: at(10), notified: ['tom', 'reg', 'priya'] }, name, now)).toEqual({
      tone: 'escalated',
      label: 'Escalated: step 2',
      detail: `Not acknowledged yet, so it escalated (step 2). Alerted so far: Dr Tom Hughes, Dr Ray Green and Dr Priya Shah. Next step at ${tz(at(10))}.`,
    });
    expect(describeEscalation({ state: 'acknowledged', step: 0, next_at: null, notified: ['tom'] }, name, now).detail).toBe('Acknowledged: no escalation was needed.');
    expect(describeEscalation({ state: 'acknowledged', step: 1, next_at: null, notified: ['tom', 'reg'] }, name, now).detail).toBe(
      'Acknowledged after 1 escalation step. Alerted so far: Dr Tom Hughes and Dr Ray Green.',
    );
    const done = describeEscalation({ state: 'exhausted', step: 3, next_at: null, notified: [] }, name, now);
    expect(done.tone).toBe('exhausted');
    expect(done.label).toBe('Not acknowledged');
    expect(done.detail).toBe('Nobody acknowledged it after 3 escalation steps and no further steps remain. Nobody has been alerted yet. Phone or bleep someone now.');
  });
});
