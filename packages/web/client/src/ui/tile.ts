/**
 * One participant's tile: video (or initials when the camera is off), name, and mute and raised-hand indicators.
 * Indicators are real elements with text alternatives so they are announced and testable
 * (`[data-indicator="mic-off"]`, `[data-indicator="hand"]`). A screen-share tile (`screen`) shows the whole
 * picture (no cropping, no mirror) and is marked `data-screen-of="<id>"` instead of `data-endpoint`. The meeting puts
 * per-tile buttons (show on stage) into {@link Tile.actions}.
 */
import { ICONS, h, icon } from './dom.js';

export class Tile {
  readonly el: HTMLElement;
  readonly video: HTMLVideoElement;
  readonly #audio: HTMLAudioElement;
  readonly #name: HTMLElement;
  readonly #avatar: HTMLElement;
  readonly #micOff: HTMLElement;
  readonly #cameraOff: HTMLElement;
  readonly #hand: HTMLElement;
  /** Buttons for this tile (e.g. "show on stage"); empty by default. */
  readonly actions: HTMLElement;
  readonly screen: boolean;
  #displayName = '';
  #videoMuted = false;
  #hasVideo = false;

  constructor(opts: { id: string; local: boolean; screen?: boolean }) {
    this.screen = opts.screen === true;
    this.video = h('video', { autoplay: true, playsinline: true, class: opts.local && !this.screen ? 'mirrored' : undefined });
    this.video.muted = true; // audio plays through the tile's own <audio> element
    this.#audio = h('audio', { autoplay: true });
    this.#name = h('span', { class: 'name' });
    this.#avatar = h('div', { class: 'avatar', 'aria-hidden': 'true' });
    this.#micOff = h('span', { class: 'indicator', 'data-indicator': 'mic-off', role: 'img', 'aria-label': 'Microphone muted', title: 'Microphone muted', hidden: true }, icon(ICONS.micOff));
    this.#cameraOff = h('span', { class: 'indicator', 'data-indicator': 'camera-off', role: 'img', 'aria-label': 'Camera off', title: 'Camera off', hidden: true }, icon(ICONS.cameraOff));
    this.#hand = h('span', { class: 'indicator hand', 'data-indicator': 'hand', role: 'img', 'aria-label': 'Hand raised', title: 'Hand raised', hidden: true }, icon(ICONS.hand));
    this.actions = h('div', { class: 'tile-actions' });
    this.el = h(
      'figure',
      {
        class: ['tile', opts.local ? 'local' : '', this.screen ? 'screen' : ''].filter((c) => c !== '').join(' '),
        ...(this.screen ? { 'data-screen-of': opts.id } : { 'data-endpoint': opts.id }),
      },
      this.video,
      this.#avatar,
      h('figcaption', null, this.#hand, this.#name, this.#micOff, this.#cameraOff),
      this.actions,
      opts.local || this.screen ? undefined : this.#audio,
    );
    this.#render();
  }

  setName(name: string): void {
    this.#displayName = name;
    this.#render();
  }

  setAudioMuted(muted: boolean): void {
    this.#micOff.hidden = !muted;
    this.el.dataset.audioMuted = String(muted);
  }

  /** Shows or hides the raised-hand indicator. */
  setHandRaised(raised: boolean): void {
    this.#hand.hidden = !raised;
    this.el.dataset.handRaised = String(raised);
  }

  /** Marks the tile of the active speaker. */
  setSpeaking(speaking: boolean): void {
    this.el.classList.toggle('speaking', speaking);
  }

  setVideoMuted(muted: boolean): void {
    this.#videoMuted = muted;
    this.#cameraOff.hidden = !muted;
    this.el.dataset.videoMuted = String(muted);
    this.#render();
  }

  setVideoTrack(track: MediaStreamTrack | undefined | null): void {
    const current = (this.video.srcObject as MediaStream | null)?.getVideoTracks()[0];
    if (current !== track) this.video.srcObject = track ? new MediaStream([track]) : null;
    this.#hasVideo = !!track;
    this.#render();
  }

  setAudioTrack(track: MediaStreamTrack | undefined): void {
    const current = (this.#audio.srcObject as MediaStream | null)?.getAudioTracks()[0];
    if (current === track) return;
    this.#audio.srcObject = track ? new MediaStream([track]) : null;
    if (track) void this.#audio.play().catch(() => undefined);
  }

  remove(): void {
    this.video.srcObject = null;
    this.#audio.srcObject = null;
    this.el.remove();
  }

  #render(): void {
    const name = this.#displayName || 'Guest';
    this.#name.textContent = name;
    this.#avatar.textContent = initials(name);
    const showVideo = this.#hasVideo && !this.#videoMuted;
    this.el.classList.toggle('no-video', !showVideo);
  }
}

export function initials(name: string): string {
  const parts = name.trim().split(/\s+/).filter((p) => p !== '');
  const letters = parts.length > 1 ? [parts[0], parts[parts.length - 1]] : [parts[0]];
  return letters.map((p) => [...(p ?? '')][0] ?? '').join('').toUpperCase() || '?';
}
