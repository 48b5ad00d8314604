/**
 * The participant list: everyone in the meeting (raised hands first, in the order they were raised), with their
 * role, microphone, camera, screen share and raised hand. A moderator also gets, per participant, the actions the
 * server enforces: mute the microphone, turn off the camera (both through the focus), make moderator and remove
 * (muc#admin). Others see no such controls. A refused action is shown in the panel (`role="alert"`).
 */
import type { Conference, Participant } from '../conference/conference.js';
import { ICONS, h, icon } from './dom.js';

/** The participant list panel (`#participants-panel`); {@link ParticipantsPanel.render} after every change. */
export class ParticipantsPanel {
  readonly el: HTMLElement;
  readonly #conference: Conference;
  readonly #list: HTMLUListElement;
  readonly #error: HTMLElement;
  readonly #heading: HTMLElement;
  readonly #localName: () => string;

  constructor(opts: { conference: Conference; localName: () => string; onClose: () => void }) {
    this.#conference = opts.conference;
    this.#localName = opts.localName;
    this.#list = h('ul', { class: 'participant-list' });
    this.#error = h('p', { class: 'error', role: 'alert' });
    this.#heading = h('h2', { id: 'participants-heading' }, 'Participants');
    this.el = h(
      'aside',
      { id: 'participants-panel', class: 'panel', 'aria-labelledby': 'participants-heading', hidden: true },
      h('div', { class: 'panel-header' }, this.#heading, h('button', { type: 'button', class: 'link', 'aria-label': 'Close participants', onclick: opts.onClose }, 'Close')),
      this.#error,
      this.#list,
    );
    this.render();
  }

  setOpen(open: boolean): void {
    this.el.hidden = !open;
    if (open) this.#heading.focus();
  }

  /** Shows an error (or clears it with ''). */
  showError(message: string): void {
    this.#error.textContent = message;
  }

  render(): void {
    const c = this.#conference;
    const focused = document.activeElement instanceof HTMLElement && this.#list.contains(document.activeElement) ? document.activeElement.dataset.action : undefined;
    const focusedRow = focused !== undefined ? (document.activeElement?.closest('li') as HTMLElement | null)?.dataset.participant : undefined;
    const people = [...c.participants.values()].sort((a, b) => handOrder(a.raisedHand) - handOrder(b.raisedHand) || a.displayName.localeCompare(b.displayName));
    this.#heading.textContent = `Participants (${people.length + 1})`;
    this.#heading.tabIndex = -1;
    const rows = [this.#row({ id: c.endpointId, name: `${this.#localName() || 'Guest'} (you)`, moderator: c.isModerator, hand: c.handRaised, p: undefined })];
    for (const p of people) rows.push(this.#row({ id: p.id, name: p.displayName || 'Guest', moderator: p.role === 'moderator', hand: p.raisedHand > 0, p }));
    this.#list.replaceChildren(...rows);
    if (focused !== undefined && focusedRow !== undefined) {
      this.#list.querySelector<HTMLElement>(`li[data-participant="${CSS.escape(focusedRow)}"] [data-action="${CSS.escape(focused)}"]`)?.focus();
    }
  }

  #row(r: { id: string; name: string; moderator: boolean; hand: boolean; p: Participant | undefined }): HTMLElement {
    const c = this.#conference;
    const p = r.p;
    const badges = h(
      'span',
      { class: 'badges' },
      r.hand ? h('span', { class: 'badge hand', 'data-indicator': 'hand', role: 'img', 'aria-label': 'Hand raised', title: 'Hand raised' }, icon(ICONS.hand)) : undefined,
      r.moderator ? h('span', { class: 'badge', 'data-indicator': 'moderator' }, 'Moderator') : undefined,
      p?.screenSharing === true ? h('span', { class: 'badge', role: 'img', 'aria-label': 'Sharing screen', title: 'Sharing screen' }, icon(ICONS.screen)) : undefined,
      p?.audioMuted === true ? h('span', { class: 'badge muted', 'data-indicator': 'mic-off', role: 'img', 'aria-label': 'Microphone muted', title: 'Microphone muted' }, icon(ICONS.micOff)) : undefined,
      p?.videoMuted === true ? h('span', { class: 'badge muted', 'data-indicator': 'camera-off', role: 'img', 'aria-label': 'Camera off', title: 'Camera off' }, icon(ICONS.cameraOff)) : undefined,
    );
    const actions = p !== undefined && c.isModerator ? this.#actions(p, r.name) : undefined;
    return h('li', { 'data-participant': r.id }, h('span', { class: 'participant-name' }, r.name), badges, actions);
  }

  #actions(p: Participant, name: string): HTMLElement {
    const act = (action: string, label: string, text: string, run: () => Promise<void>, disabled = false): HTMLButtonElement =>
      h('button', { type: 'button', class: 'small', 'data-action': action, 'aria-label': label, disabled, onclick: async (ev) => {
        const button = ev.currentTarget as HTMLButtonElement;
        button.disabled = true;
        this.showError('');
        try {
          await run();
        } catch (err) {
          this.showError(err instanceof Error ? err.message : String(err));
          button.disabled = false;
        }
      } }, text);
    const c = this.#conference;
    return h(
      'span',
      { class: 'participant-actions' },
      act('mute-audio', `Mute ${name}`, 'Mute', () => c.muteParticipant(p.id, 'audio'), p.audioMuted),
      act('mute-video', `Turn off ${name}'s camera`, 'Stop video', () => c.muteParticipant(p.id, 'video'), p.videoMuted),
      p.role !== 'moderator' ? act('grant-moderator', `Make ${name} a moderator`, 'Make moderator', () => c.grantModerator(p.id)) : undefined,
      act('kick', `Remove ${name} from the meeting`, 'Remove', () => c.kickParticipant(p.id)),
    );
  }
}

function handOrder(raisedAt: number): number {
  return raisedAt > 0 ? raisedAt : Number.MAX_SAFE_INTEGER;
}
