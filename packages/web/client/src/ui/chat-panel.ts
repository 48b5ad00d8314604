/**
 * The chat panel: the conversation (a `role="log"` list, announced politely), a recipient choice (everyone or one
 * participant, for a private message as Jitsi Meet sends them) and the message field. Enter sends. Messages that
 * arrive while the panel is closed count as unread (the meeting shows the count on the chat button).
 */
import { type ChatMessage, MAX_CHAT_LENGTH } from '../conference/chat.js';
import type { Conference } from '../conference/conference.js';
import { h } from './dom.js';

const EVERYONE = '';

/** The chat panel (`#chat-panel`); the meeting opens and closes it and shows {@link ChatPanel.unread}. */
export class ChatPanel {
  readonly el: HTMLElement;
  readonly #conference: Conference;
  readonly #list: HTMLOListElement;
  readonly #to: HTMLSelectElement;
  readonly #input: HTMLInputElement;
  readonly #error: HTMLElement;
  readonly #onUnread: (n: number) => void;
  #open = false;
  #unread = 0;

  constructor(opts: { conference: Conference; onUnread: (count: number) => void; onClose: () => void }) {
    this.#conference = opts.conference;
    this.#onUnread = opts.onUnread;
    this.#list = h('ol', { class: 'chat-log', role: 'log', 'aria-live': 'polite', 'aria-label': 'Messages', tabindex: 0 });
    this.#to = h('select', { id: 'chat-to', name: 'to' });
    this.#input = h('input', { id: 'chat-input', name: 'message', type: 'text', autocomplete: 'off', maxlength: MAX_CHAT_LENGTH, placeholder: 'Write a message' });
    this.#error = h('p', { class: 'error', role: 'alert' });
    const form = h(
      'form',
      { class: 'chat-form', onsubmit: (ev) => {
        ev.preventDefault();
        this.#send();
      } },
      h('div', { class: 'chat-to-row' }, h('label', { for: 'chat-to' }, 'Send to'), this.#to),
      h('label', { for: 'chat-input', class: 'visually-hidden' }, 'Message'),
      h('div', { class: 'row' }, this.#input, h('button', { type: 'submit', class: 'primary' }, 'Send')),
      this.#error,
    );
    this.el = h(
      'aside',
      { id: 'chat-panel', class: 'panel', 'aria-labelledby': 'chat-heading', hidden: true },
      h('div', { class: 'panel-header' }, h('h2', { id: 'chat-heading' }, 'Chat'), h('button', { type: 'button', class: 'link', 'aria-label': 'Close chat', onclick: opts.onClose }, 'Close')),
      this.#list,
      form,
    );
    this.renderRecipients();
    opts.conference.on('chatMessage', (m) => this.#add(m));
    opts.conference.on('chatError', ({ to, text }) => {
      const who = to === undefined ? undefined : this.#nameOf(to);
      this.#error.textContent = `A message could not be delivered${who !== undefined ? ` to ${who}` : ''}${text !== '' ? `: ${text}` : '.'}`;
    });
  }

  get unread(): number {
    return this.#unread;
  }

  /** Shows or hides the panel; opening clears the unread count and puts the focus in the message field. */
  setOpen(open: boolean): void {
    this.#open = open;
    this.el.hidden = !open;
    if (open) {
      this.#setUnread(0);
      this.#input.focus();
    }
  }

  /** Rebuilds the recipient list from the participants (keeps the choice while that participant is there). */
  renderRecipients(): void {
    const current = this.#to.value;
    const options = [h('option', { value: EVERYONE }, 'Everyone')];
    for (const p of this.#conference.participants.values()) {
      options.push(h('option', { value: p.id }, `${p.displayName || 'Guest'} (privately)`));
    }
    this.#to.replaceChildren(...options);
    this.#to.value = [...this.#to.options].some((o) => o.value === current) ? current : EVERYONE;
  }

  #send(): void {
    const text = this.#input.value;
    if (text.trim() === '') return;
    this.#error.textContent = '';
    const to = this.#to.value;
    if (to === EVERYONE) this.#conference.sendChatMessage(text);
    else if (this.#conference.participants.has(to)) this.#conference.sendPrivateMessage(to, text);
    else {
      this.#error.textContent = 'That participant has left the meeting.';
      return;
    }
    this.#input.value = '';
    this.#input.focus();
  }

  #nameOf(id: string, fallback?: string): string {
    if (id === this.#conference.endpointId) return 'You';
    return this.#conference.participants.get(id)?.displayName || fallback || 'Guest';
  }

  #add(m: ChatMessage): void {
    const from = this.#nameOf(m.from, m.nick);
    const time = new Date(m.timestamp);
    const meta = h(
      'p',
      { class: 'chat-meta' },
      h('span', { class: 'chat-from' }, from),
      m.private ? h('span', { class: 'chat-private' }, m.self ? `privately to ${this.#nameOf(m.to ?? '')}` : 'privately to you') : undefined,
      h('time', { datetime: time.toISOString() }, time.toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' })),
    );
    const item = h(
      'li',
      { class: ['chat-message', m.self ? 'self' : '', m.private ? 'private' : ''].filter((c) => c !== '').join(' '), 'data-from': m.from, 'data-private': String(m.private) },
      meta,
      h('p', { class: 'chat-text' }, m.text),
      !m.self && this.#conference.participants.has(m.from)
        ? h('button', { type: 'button', class: 'link', 'aria-label': `Reply privately to ${from}`, onclick: () => {
            this.renderRecipients();
            this.#to.value = m.from;
            this.#input.focus();
          } }, 'Reply privately')
        : undefined,
    );
    this.#list.append(item);
    item.scrollIntoView({ block: 'nearest' });
    if (!m.self && (!this.#open || document.hidden)) this.#setUnread(this.#unread + 1);
  }

  #setUnread(n: number): void {
    this.#unread = n;
    this.#onUnread(n);
  }
}
