import { render, screen, within } from '@testing-library/react';
import userEvent from '@testing-library/user-event';
import { describe, expect, it, vi } from 'vitest';
import type { Message } from '../src/api/types';
import { type ChatAction, type ChatState, chatReducer, emptyChat } from '../src/state/chat';
import { MessageList } from '../src/screens/conversation/MessageList';
import { conversation, message, user } from './fakeServer';

const conv = conversation({ last_seq: 6 });

function state(messages: Message[], ...more: ChatAction[]): ChatState {
  let s = chatReducer(emptyChat, { type: 'signedIn', me: user() });
  s = chatReducer(s, { type: 'conversations', items: [conv] });
  s = chatReducer(s, {
    type: 'people',
    people: [
      { kind: 'user', id: 'u-bob', display_name: 'Bob Nurse', job_title: 'Staff nurse', profession: 'Nursing' },
      { kind: 'user', id: 'u-cat', display_name: 'Cat Pharm', job_title: 'Pharmacist', profession: 'Pharmacy' },
    ],
  });
  s = chatReducer(s, { type: 'history', conversationId: conv.id, messages, hasMore: false, latest: true });
  for (const a of more) s = chatReducer(s, a);
  return s;
}

function renderList(s: ChatState) {
  const actions = { acknowledge: vi.fn().mockResolvedValue(undefined), edit: vi.fn().mockResolvedValue(undefined), remove: vi.fn().mockResolvedValue(undefined) };
  const utils = render(<MessageList chat={s} conversation={conv} actions={actions} onLoadOlder={vi.fn()} onRetry={vi.fn()} onDiscard={vi.fn()} />);
  return { actions, ...utils };
}

function item(name: RegExp | string): HTMLElement {
  return screen.getByRole('listitem', { name });
}

describe('MessageList', () => {
  it('shows messages in seq order with their senders', () => {
    renderList(state([message(2, { body: 'second' }), message(1, { body: 'first', sender_id: 'u-cat' })]));
    const items = screen.getAllByRole('listitem');
    expect(items.map((li) => li.querySelector('.app-message__body')?.textContent)).toEqual(['first', 'second']);
    expect(within(items[0]!).getByText('Cat Pharm')).toBeInTheDocument();
  });

  it('shows a deleted message as a placeholder, without its text or actions', () => {
    renderList(state([message(1, { sender_id: 'u-me', body: '', deleted: true, requires_ack: true, priority: 'urgent' })]));
    const li = item('You');
    expect(within(li).getByText('This message was deleted')).toBeInTheDocument();
    expect(within(li).queryByRole('button')).not.toBeInTheDocument();
    expect(within(li).queryByText('Urgent')).not.toBeInTheDocument();
  });

  it('marks an edited message', () => {
    renderList(state([message(1, { body: 'dose is 5 mg', edited_at: '2026-01-01T10:00:00Z' }), message(2, { body: 'ok' })]));
    expect(within(screen.getAllByRole('listitem')[0]!).getByText('(edited)')).toBeInTheDocument();
    expect(within(screen.getAllByRole('listitem')[1]!).queryByText('(edited)')).not.toBeInTheDocument();
  });

  it('offers Acknowledge on an urgent message to me, and calls it', async () => {
    const urgent = message(1, { priority: 'urgent', requires_ack: true, body: 'please review bed 4' });
    const { actions } = renderList(state([urgent]));
    const li = item('Bob Nurse');
    expect(within(li).getByText('Urgent')).toBeInTheDocument();
    await userEvent.click(within(li).getByRole('button', { name: /Acknowledge/ }));
    expect(actions.acknowledge).toHaveBeenCalledWith(urgent);
  });

  it('shows that I acknowledged, instead of the button', () => {
    const urgent = message(1, { priority: 'emergency', requires_ack: true });
    renderList(state([urgent], { type: 'receipt', conversationId: 'c-1', messageId: urgent.id, seq: 1, userId: 'u-me', kind: 'acked', at: '2026-01-01T09:02:00Z' }));
    const li = item('Bob Nurse');
    expect(within(li).queryByRole('button', { name: /Acknowledge/ })).not.toBeInTheDocument();
    expect(within(li).getByText('You acknowledged')).toBeInTheDocument();
    expect(within(li).getByText('Emergency')).toBeInTheDocument();
  });

  it('does not offer Acknowledge on my own message, and shows who acknowledged it', () => {
    const mine = message(3, { sender_id: 'u-me', priority: 'urgent', requires_ack: true });
    renderList(state([mine], { type: 'receipt', conversationId: 'c-1', messageId: mine.id, seq: 3, userId: 'u-bob', kind: 'acked', at: '2026-01-01T09:04:00Z' }));
    const li = item('You');
    expect(within(li).queryByRole('button', { name: /^Acknowledge/ })).not.toBeInTheDocument();
    expect(within(li).getByText('Acknowledged by 1 of 2')).toBeInTheDocument();
  });

  it('ticks my messages from receipts: sent, delivered, read', () => {
    const msgs = [message(1, { sender_id: 'u-me' }), message(2, { sender_id: 'u-me' }), message(3, { sender_id: 'u-me' })];
    const receipt = (seq: number, userId: string, kind: 'delivered' | 'read'): ChatAction => ({ type: 'receipt', conversationId: 'c-1', messageId: `m-c-1-${seq}`, seq, userId, kind, at: '' });
    renderList(state(msgs, receipt(2, 'u-bob', 'delivered'), receipt(2, 'u-cat', 'delivered'), receipt(1, 'u-bob', 'read'), receipt(1, 'u-cat', 'read'), receipt(3, 'u-cat', 'delivered')));
    const status = screen.getAllByRole('listitem').map((li) => li.querySelector('.app-message__status')?.textContent?.replace(/\s+/g, ' ').trim());
    expect(status).toEqual(['✓✓ Read', '✓✓ Delivered', '✓ Delivered to 1 of 2']);
  });

  it('lets me edit and delete my own messages only', async () => {
    const mine = message(1, { sender_id: 'u-me', body: 'obs due at 10' });
    const { actions } = renderList(state([mine, message(2)]));
    expect(within(item('Bob Nurse')).queryByRole('button', { name: /Edit/ })).not.toBeInTheDocument();

    const u = userEvent.setup();
    await u.click(within(item('You')).getByRole('button', { name: 'Edit your message' }));
    const box = screen.getByLabelText('Edit message');
    await u.clear(box);
    await u.type(box, 'obs due at 11');
    await u.click(screen.getByRole('button', { name: 'Save' }));
    expect(actions.edit).toHaveBeenCalledWith(mine, 'obs due at 11');

    await u.click(within(item('You')).getByRole('button', { name: 'Delete your message' }));
    await u.click(screen.getByRole('button', { name: 'Delete message' }));
    expect(actions.remove).toHaveBeenCalledWith(mine);
  });

  it('shows a send in flight, and a failed one with Try again', () => {
    const s = state([], { type: 'pending', conversationId: 'c-1', pending: { client_id: 'a', body: 'on my way', priority: 'routine', requires_ack: false, failed: false } }, { type: 'pending', conversationId: 'c-1', pending: { client_id: 'b', body: 'bleep me', priority: 'routine', requires_ack: false, failed: true } });
    renderList(s);
    expect(screen.getByText('Sending…')).toBeInTheDocument();
    expect(screen.getByText('Not sent')).toBeInTheDocument();
    expect(screen.getByRole('button', { name: 'Try again' })).toBeInTheDocument();
  });
});
