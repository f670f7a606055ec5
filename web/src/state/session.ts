// One signed-in session: the in-memory store, the event stream, and the actions screens take.
// Stopping it drops everything it held.

import { changePassword, getMe, logout } from '../api/auth';
import { ApiError, isApiError } from '../api/client';
import * as convApi from '../api/conversations';
import type { AnyServerEvent, ReceiptEvent, ServerEvent } from '../api/events';
import { EventStream, type StreamOptions } from '../api/eventStream';
import * as msgApi from '../api/messages';
import * as secApi from '../api/security';
import type { Conversation, ConversationKind, DirectoryPerson, Message, Priority, Security, User } from '../api/types';
import { usePasskey } from '../api/webauthn';
import { ClinicalStore } from './clinical';
import { onClinicalEvent, onClinicalMessages, onSent } from './clinicalSession';
import { newClientId } from './ids';
import { LockStore, canUnlock, triesLeftFrom } from './lock';
import { conversationTitle, personName, ticksFor } from './selectors';
import { ChatStore } from './store';

export type EndReason = 'revoked' | 'expired' | 'signed-out' | 'password-changed' | 'locked-out' | 'signed-out-everywhere';

const HISTORY_PAGE = 50;
const RECEIPT_FETCHES = 20;

export class Session {
  readonly store = new ChatStore();
  /** The screen lock: locked or not, tries left, what the account can unlock with. */
  readonly lock = new LockStore();
  /** Escalations, send warnings, silent copies, urgent alerts, duty, patients (state/clinical.ts). */
  readonly clinical = new ClinicalStore();
  readonly stream: EventStream;
  /** The session was locked when this page opened: loading waits for the unlock. */
  private loadAfterUnlock = false;
  private loaded = false;
  private over = false;
  private stopped = false;
  /** Set while a change is under way that ends the session on purpose (a new password). */
  private expectedEnd: EndReason | null = null;
  private readonly markedRead: Record<string, number> = {};
  private readonly fetchingConversation = new Set<string>();
  private wasOnline = false;

  constructor(
    readonly me: User,
    private readonly ended: (reason: EndReason) => void,
    streamOptions: StreamOptions = {},
  ) {
    this.store.dispatch({ type: 'signedIn', me });
    this.stream = new EventStream(
      {
        messages: (source, messages, silent) => {
          this.onMessages(messages, source !== 'history');
          onClinicalMessages(this, source, messages, silent === true);
        },
        event: (e) => this.onEvent(e),
        revoked: () => this.end('revoked'),
        lock: (locked) => (locked ? this.lockedElsewhere() : this.unlockedElsewhere()),
        status: (status) => {
          this.store.dispatch({ type: 'connection', status });
          if (status === 'online' && this.wasOnline) void this.catchUp().catch(() => undefined);
          if (status === 'online') this.wasOnline = true;
        },
        sessionAlive: async () => {
          try {
            await getMe();
            return true;
          } catch (e) {
            if (isApiError(e, 'unauthenticated')) {
              this.end('expired');
              return false;
            }
            throw e;
          }
        },
      },
      streamOptions,
    );
  }

  /**
   * Learns the lock policy, then loads the conversation list and opens the event stream (after the
   * unlock, when the session is locked). Throws ApiError (403 for a restricted session).
   */
  async start(): Promise<void> {
    const security = await this.refreshSecurity();
    if (security?.locked) {
      this.lock.dispatch({ type: 'locked' });
      this.loadAfterUnlock = true;
      return;
    }
    await this.load();
  }

  /** Reads what the account can unlock with and the idle time (after a change on the security page too). */
  async refreshSecurity(): Promise<Security | null> {
    try {
      const security = await secApi.getSecurity();
      this.lock.dispatch({ type: 'security', security });
      return security;
    } catch (e) {
      // A restricted or ended session must stop the start; anything else only costs the idle lock
      // its knowledge of a PIN (locking is then tried, and a 409 asks for a PIN).
      if (isApiError(e, 'forbidden') || isApiError(e, 'unauthenticated')) throw e;
      return null;
    }
  }

  private async load(): Promise<void> {
    this.loaded = true;
    const items = await convApi.listAllConversations();
    // Stopped while loading (the page let go of this session): it must not open a socket now.
    if (this.stopped) return;
    for (const c of items) this.stream.know(c.id, c.last_seq);
    this.store.dispatch({ type: 'conversations', items });
    this.stream.start();
  }

  /**
   * The session is over (revoked, expired, signed out): reported once. When this app itself ended
   * it on purpose (a password change ends every session of the user, this one included), that is
   * the reason given, whichever sign of it (session.revoked, a 401) arrives first.
   */
  end(reason: EndReason): void {
    if (this.over) return;
    this.over = true;
    this.ended(this.expectedEnd ?? reason);
  }

  // After a reconnect: the stream replayed new messages, but not edits, deletions, receipts or
  // membership changes made meanwhile, so the list and the open conversation are fetched again.
  private async catchUp(): Promise<void> {
    const items = await convApi.listAllConversations();
    for (const c of items) this.stream.know(c.id, c.last_seq);
    this.store.dispatch({ type: 'conversations', items });
    const viewing = this.store.getState().viewing;
    if (viewing) await this.open(viewing);
  }

  // ---- The screen lock ------------------------------------------------------------------------

  /**
   * The organisation's idle time passed. With a PIN or passkey the screen locks at once (the
   * screens leave the DOM) and the server is told; without either there is nothing to unlock
   * with (the server would answer 409), so the app asks for a PIN instead of locking.
   */
  async idle(): Promise<void> {
    const st = this.lock.getState();
    if (st.locked || this.over) return;
    if (st.security && !canUnlock(st.security)) {
      this.lock.dispatch({ type: 'idleWithoutPin' });
      return;
    }
    this.lock.dispatch({ type: 'locked' });
    try {
      await secApi.lockSession();
    } catch (e) {
      if (isApiError(e, 'conflict')) {
        // The PIN was removed meanwhile (another device): nothing to unlock with.
        this.lock.dispatch({ type: 'unlocked' });
        this.lock.dispatch({ type: 'idleWithoutPin' });
        void this.refreshSecurity().catch(() => undefined);
      }
      // Otherwise (offline) the screen stays locked: the unlock checks the PIN whether or not the
      // server heard of the lock.
    }
  }

  /** The server or another tab of this browser (same session) locked it. */
  lockedElsewhere(): void {
    if (!this.over) this.lock.dispatch({ type: 'locked' });
  }

  /** Another tab of this browser unlocked the session. */
  unlockedElsewhere(): void {
    if (this.lock.getState().locked) this.afterUnlock();
  }

  /**
   * Unlocks with the PIN or (no pin given) a passkey. A wrong answer throws the ApiError (403, its
   * message counting the tries left); the last wrong one ends the session, which then reloads to
   * sign-in saying why. Browser errors of the passkey prompt are thrown as they come.
   */
  async unlock(pin?: string): Promise<void> {
    const last = this.lock.getState().triesLeft === 1;
    if (last) this.expectedEnd = 'locked-out';
    try {
      if (pin !== undefined) {
        await secApi.unlockSession({ pin });
      } else {
        const { public_key } = await secApi.beginPasskeyUnlock();
        await secApi.unlockSession({ credential: await usePasskey(public_key) });
      }
    } catch (e) {
      if (isApiError(e, 'unauthenticated')) {
        this.expectedEnd = 'locked-out';
        this.end('locked-out');
        return;
      }
      if (last) this.expectedEnd = null;
      if (e instanceof ApiError && e.code === 'forbidden') this.lock.dispatch({ type: 'wrongAnswer', triesLeft: triesLeftFrom(e.body, e.message) });
      throw e;
    }
    if (last) this.expectedEnd = null;
    this.afterUnlock();
  }

  private afterUnlock(): void {
    this.lock.dispatch({ type: 'unlocked' });
    if (this.loadAfterUnlock && !this.loaded) {
      this.loadAfterUnlock = false;
      void this.load().catch(() => undefined);
    }
  }

  stop(): void {
    this.stopped = true;
    this.stream.stop();
    this.store.dispatch({ type: 'reset' });
  }

  private onMessages(messages: Message[], live: boolean): void {
    this.store.dispatch({ type: 'messages', messages, live });
    if (live) this.announce(messages);
    const known = this.store.getState().conversations;
    for (const id of new Set(messages.map((m) => m.conversation_id))) {
      if (!known[id]) void this.refreshConversation(id).catch(() => undefined);
    }
  }

  // Tells screen reader users about new messages in other conversations: who and where, never what.
  private announce(messages: Message[]): void {
    const s = this.store.getState();
    const news = messages.filter((m) => m.sender_id !== this.me.id && m.conversation_id !== s.viewing && !m.deleted);
    const last = news[news.length - 1];
    if (!last) return;
    const conv = s.conversations[last.conversation_id];
    const where = conv ? ` in ${conversationTitle(s, conv)}` : '';
    const urgency = last.priority === 'routine' ? 'New message' : `New ${last.priority} message`;
    this.store.dispatch({ type: 'announce', text: `${urgency} from ${personName(s, last.sender_id)}${where}` });
  }

  private applyReceipt(r: ReceiptEvent): void {
    this.store.dispatch({
      type: 'receipt',
      conversationId: r.conversation_id,
      messageId: r.message_id,
      seq: r.seq,
      userId: r.user_id,
      kind: r.kind,
      at: r.at,
    });
  }

  private onEvent(e: AnyServerEvent): void {
    const ev = e as ServerEvent;
    switch (ev.type) {
      case 'message.updated':
        this.store.dispatch({ type: 'messageUpdated', message: ev.message });
        break;
      case 'receipt':
        this.applyReceipt(ev);
        break;
      case 'receipts':
        for (const r of ev.receipts) this.applyReceipt(r);
        break;
      case 'conversation.updated':
        this.store.dispatch({ type: 'conversation', conversation: ev.conversation });
        break;
      default:
        onClinicalEvent(this, e); // escalation, alert (state/clinicalSession.ts)
        break;
    }
  }

  async refreshConversation(id: string): Promise<Conversation | null> {
    if (this.fetchingConversation.has(id)) return null;
    this.fetchingConversation.add(id);
    try {
      const c = await convApi.getConversation(id);
      this.stream.know(c.id, c.last_seq);
      this.store.dispatch({ type: 'conversation', conversation: c });
      return c;
    } finally {
      this.fetchingConversation.delete(id);
    }
  }

  rememberPeople(people: DirectoryPerson[]): void {
    this.store.dispatch({ type: 'people', people });
  }

  /** Opening a conversation: fresh metadata, the latest page of history, and receipts for ticks. */
  async open(id: string): Promise<void> {
    await this.refreshConversation(id);
    const page = await msgApi.getHistory(id, { limit: HISTORY_PAGE });
    this.store.dispatch({ type: 'history', conversationId: id, messages: page.items, hasMore: page.has_more, latest: true });
    await this.loadReceipts(page.items);
  }

  async loadOlder(id: string): Promise<void> {
    const w = this.store.getState().windows[id];
    const oldest = w?.seqs[0];
    if (oldest === undefined || oldest <= 1) return;
    const page = await msgApi.getHistory(id, { beforeSeq: oldest, limit: HISTORY_PAGE });
    this.store.dispatch({ type: 'history', conversationId: id, messages: page.items, hasMore: page.has_more, latest: false });
    await this.loadReceipts(page.items);
  }

  // Receipts give delivered/read watermarks and acknowledgements. Read and delivered only move
  // forward, so my messages are asked about newest first until one is read by everyone (everything
  // older is then read too); messages that need an acknowledgement are asked about each.
  private async loadReceipts(messages: Message[]): Promise<void> {
    const me = this.me.id;
    const fetchFor = async (m: Message) => {
      try {
        const r = await msgApi.getReceipts(m.conversation_id, m.id);
        this.store.dispatch({ type: 'receipts', message: m, items: r.items });
      } catch (e) {
        if (!isApiError(e, 'not_found')) throw e;
      }
    };
    const done = new Set<Message>();
    const mine = messages.filter((m) => m.sender_id === me && !m.deleted).reverse();
    for (const m of mine.slice(0, RECEIPT_FETCHES)) {
      const conv = this.store.getState().conversations[m.conversation_id];
      const ticks = conv ? ticksFor(this.store.getState(), conv, m) : null;
      if (ticks?.level === 2 && !m.requires_ack) break;
      await fetchFor(m);
      done.add(m);
    }
    const wanted = messages.filter((m) => m.requires_ack && !m.deleted && !done.has(m)).slice(-RECEIPT_FETCHES);
    for (const m of wanted) await fetchFor(m);
  }

  async send(conversationId: string, body: string, priority: Priority, requiresAck: boolean, clientId = newClientId()): Promise<void> {
    const pending = { client_id: clientId, body, priority, requires_ack: requiresAck, failed: false };
    this.store.dispatch({ type: 'pending', conversationId, pending });
    try {
      const m = await msgApi.sendMessage(conversationId, { client_id: clientId, body, priority, requires_ack: requiresAck });
      onSent(this, m);
      this.store.dispatch({ type: 'messages', messages: [m], live: false });
      this.store.dispatch({ type: 'pendingDone', conversationId, clientId });
    } catch (e) {
      this.store.dispatch({ type: 'pending', conversationId, pending: { ...pending, failed: true } });
      throw e;
    }
  }

  discardPending(conversationId: string, clientId: string): void {
    this.store.dispatch({ type: 'pendingDone', conversationId, clientId });
  }

  async edit(m: Message, body: string): Promise<void> {
    const updated = await msgApi.editMessage(m.conversation_id, m.id, body);
    this.store.dispatch({ type: 'messageUpdated', message: updated ?? { ...m, body } });
  }

  async remove(m: Message): Promise<void> {
    await msgApi.deleteMessage(m.conversation_id, m.id);
    this.store.dispatch({ type: 'messageUpdated', message: { ...m, body: '', deleted: true } });
  }

  async acknowledge(m: Message): Promise<void> {
    await msgApi.acknowledge(m.conversation_id, m.id);
    this.store.dispatch({
      type: 'receipt',
      conversationId: m.conversation_id,
      messageId: m.id,
      seq: m.seq,
      userId: this.me.id,
      kind: 'acked',
      at: new Date().toISOString(),
    });
  }

  /** Marks everything up to seq read, once per seq. */
  async markRead(conversationId: string, seq: number): Promise<void> {
    if ((this.markedRead[conversationId] ?? 0) >= seq) return;
    this.markedRead[conversationId] = seq;
    this.store.dispatch({ type: 'markedRead', conversationId, seq });
    await msgApi.markRead(conversationId, seq);
  }

  /** Signs out: the server ends this session (and says so on the stream, which must not read as a revocation). */
  async signOut(): Promise<void> {
    this.expectedEnd = 'signed-out';
    await logout().catch(() => undefined);
    this.end('signed-out');
  }

  /** The lost-phone button: every session of mine ends, this one included. */
  async signOutEverywhere(): Promise<void> {
    this.expectedEnd = 'signed-out-everywhere';
    try {
      await secApi.endAllMySessions();
    } catch (e) {
      this.expectedEnd = null;
      throw e;
    }
    this.end('signed-out-everywhere');
  }

  /** Changes my password; the server then ends every session of mine, this one included. */
  async changePassword(current: string, next: string): Promise<void> {
    this.expectedEnd = 'password-changed';
    try {
      await changePassword(current, next);
    } catch (e) {
      this.expectedEnd = null;
      throw e;
    }
    this.end('password-changed');
  }

  async createConversation(kind: ConversationKind, title: string, memberIds: string[]): Promise<Conversation> {
    const c = await convApi.createConversation(kind, title, memberIds);
    this.stream.know(c.id, c.last_seq);
    this.store.dispatch({ type: 'conversation', conversation: c });
    return c;
  }

  async addMember(conversationId: string, userId: string): Promise<void> {
    await convApi.addMember(conversationId, userId);
    await this.refreshConversation(conversationId);
  }

  async removeMember(conversationId: string, userId: string): Promise<void> {
    await convApi.removeMember(conversationId, userId);
    const known = this.store.getState().conversations[conversationId];
    if (userId === this.me.id) {
      // Leaving: it disappears from the list (a conversation without me is dropped).
      if (known) this.store.dispatch({ type: 'conversation', conversation: { ...known, members: [] } });
      return;
    }
    await this.refreshConversation(conversationId);
  }
}
