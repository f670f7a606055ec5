import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket, message } from '../../test/fakeServer';
import { EventStream, type StreamHandlers } from './eventStream';

function handlers(over: Partial<StreamHandlers> = {}) {
  return {
    messages: vi.fn(),
    event: vi.fn(),
    revoked: vi.fn(),
    lock: vi.fn(),
    status: vi.fn(),
    sessionAlive: vi.fn().mockResolvedValue(true),
    ...over,
  };
}

function stream(h: StreamHandlers, fetchPage = vi.fn()) {
  return new EventStream(h, {
    url: 'ws://test/api/v1/events',
    WebSocketImpl: FakeWebSocket as unknown as typeof WebSocket,
    backoff: (n) => 1000 * (n + 1),
    fetchPage,
  });
}

beforeEach(() => {
  FakeWebSocket.reset();
  vi.useFakeTimers();
});
afterEach(() => vi.useRealTimers());

describe('EventStream', () => {
  it('resumes after hello, goes online at resume.done, and reconnects with backoff after a drop', async () => {
    const h = handlers();
    const s = stream(h);
    s.know('c-1', 3);
    s.start();
    expect(h.status).toHaveBeenLastCalledWith('connecting');
    const ws1 = FakeWebSocket.latest();
    expect(ws1.url).toBe('ws://test/api/v1/events');

    ws1.deliver({ type: 'hello', user_id: 'u-me', server_time: '' });
    expect(ws1.sent).toEqual([{ type: 'resume', cursors: { 'c-1': 3 } }]);
    ws1.deliver({ type: 'message.created', message: message(4) });
    expect(h.messages).not.toHaveBeenCalled(); // held until resume.done
    ws1.deliver({ type: 'resume.done' });
    expect(h.status).toHaveBeenLastCalledWith('online');
    expect(h.messages).toHaveBeenCalledWith('replay', [message(4)]);

    ws1.drop();
    expect(h.status).toHaveBeenLastCalledWith('reconnecting');
    await vi.advanceTimersByTimeAsync(999);
    expect(FakeWebSocket.instances).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    const ws2 = FakeWebSocket.latest();
    expect(ws2).not.toBe(ws1);
    ws2.deliver({ type: 'hello', user_id: 'u-me', server_time: '' });
    expect(ws2.sent).toEqual([{ type: 'resume', cursors: { 'c-1': 4 } }]);
    expect(h.sessionAlive).not.toHaveBeenCalled(); // the first connection said hello
    s.stop();
  });

  it('backs off further while connections keep failing, and stops when the session has ended', async () => {
    const alive = vi.fn().mockResolvedValueOnce(true).mockResolvedValueOnce(false);
    const h = handlers({ sessionAlive: alive });
    const s = stream(h);
    s.start();
    FakeWebSocket.latest().drop(); // refused before hello
    await vi.advanceTimersByTimeAsync(1000);
    expect(FakeWebSocket.instances).toHaveLength(2);
    FakeWebSocket.latest().drop();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(alive).toHaveBeenCalledTimes(2);
    expect(FakeWebSocket.instances).toHaveLength(2); // no third attempt: the session is gone
    s.stop();
  });

  it('pages history for a truncated replay', async () => {
    const fetchPage = vi
      .fn()
      .mockResolvedValueOnce({ items: [message(2), message(3)], has_more: true })
      .mockResolvedValueOnce({ items: [message(4)], has_more: false });
    const h = handlers();
    const s = stream(h, fetchPage);
    s.know('c-1', 1);
    s.start();
    const ws = FakeWebSocket.latest();
    ws.deliver({ type: 'hello', user_id: 'u-me', server_time: '' });
    ws.deliver({ type: 'resume.truncated', conversation_id: 'c-1', from_seq: 2 });
    ws.deliver({ type: 'resume.done' });
    await vi.runAllTimersAsync();
    expect(fetchPage.mock.calls).toEqual([
      ['c-1', 1],
      ['c-1', 3],
    ]);
    expect(h.messages).toHaveBeenCalledWith('history', [message(2), message(3)]);
    expect(h.messages).toHaveBeenCalledWith('history', [message(4)]);
    s.stop();
  });

  it('closes the socket when the browser goes offline and resumes when it is back', async () => {
    const h = handlers();
    const s = stream(h);
    s.know('c-1', 2);
    s.start();
    const ws1 = FakeWebSocket.latest();
    ws1.deliver({ type: 'hello', user_id: 'u-me', server_time: '' });
    ws1.deliver({ type: 'resume.done' });
    const onLine = vi.spyOn(navigator, 'onLine', 'get').mockReturnValue(false);
    window.dispatchEvent(new Event('offline'));
    expect(ws1.readyState).toBe(3);
    expect(h.status).toHaveBeenLastCalledWith('offline');
    await vi.advanceTimersByTimeAsync(60_000);
    expect(FakeWebSocket.instances).toHaveLength(1); // no retries while offline

    onLine.mockReturnValue(true);
    window.dispatchEvent(new Event('online'));
    const ws2 = FakeWebSocket.latest();
    expect(ws2).not.toBe(ws1);
    ws2.deliver({ type: 'hello', user_id: 'u-me', server_time: '' });
    expect(ws2.sent).toEqual([{ type: 'resume', cursors: { 'c-1': 2 } }]);
    onLine.mockRestore();
    s.stop();
  });

  it('reports lock and unlock at once, even while a resume waits for the unlock', () => {
    const h = handlers();
    const s = stream(h);
    s.know('c-1', 2);
    s.start();
    const ws = FakeWebSocket.latest();
    ws.deliver({ type: 'hello', user_id: 'u-me', server_time: '' });
    ws.deliver({ type: 'session.locked' });
    expect(h.lock).toHaveBeenLastCalledWith(true);
    ws.deliver({ type: 'session.unlocked' });
    expect(h.lock).toHaveBeenLastCalledWith(false);
    ws.deliver({ type: 'message.created', message: message(3) });
    expect(h.messages).not.toHaveBeenCalled(); // still held until resume.done
    ws.deliver({ type: 'resume.done' });
    expect(h.messages).toHaveBeenCalledTimes(1);
    expect(h.event).not.toHaveBeenCalled(); // the lock frames are not handed on as events
    s.stop();
  });

  it('stops and reports a revoked session', () => {
    const h = handlers();
    const s = stream(h);
    s.start();
    const ws = FakeWebSocket.latest();
    ws.deliver({ type: 'hello', user_id: 'u-me', server_time: '' });
    ws.deliver({ type: 'session.revoked' });
    expect(h.revoked).toHaveBeenCalledTimes(1);
    ws.drop();
    vi.runAllTimers();
    expect(FakeWebSocket.instances).toHaveLength(1);
  });
});
