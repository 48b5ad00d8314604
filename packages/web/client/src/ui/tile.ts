/**
 * One participant's tile: video (or initials when the camera is off), name, and mute indicators. Indicators are
 * real elements with text alternatives so they are announced and testable (`[data-indicator="mic-off"]`).
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
  #displayName = '';
  #videoMuted = false;
  #hasVideo = false;

  constructor(opts: { id: string; local: boolean }) {
    this.video = h('video', { autoplay: true, playsinline: true, class: opts.local ? 'mirrored' : undefined });
    this.video.muted = true; // audio plays through the tile's own <audio> element
    this.#audio = h('audio', { autoplay: true });
    this.#name = h('span', { class: 'name' });
    this.#avatar = h('div', { class: 'avatar', 'aria-hidden': 'true' });
    this.#micOff = h('span', { class: 'indicator', 'data-indicator': 'mic-off', role: 'img', 'aria-label': 'Microphone muted', title: 'Microphone muted', hidden: true }, icon(ICONS.micOff));
    this.#cameraOff = h('span', { class: 'indicator', 'data-indicator': 'camera-off', role: 'img', 'aria-label': 'Camera off', title: 'Camera off', hidden: true }, icon(ICONS.cameraOff));
    this.el = h(
      'figure',
      { class: opts.local ? 'tile local' : 'tile', 'data-endpoint': opts.id },
      this.video,
      this.#avatar,
      h('figcaption', null, this.#name, this.#micOff, this.#cameraOff),
      opts.local ? undefined : this.#audio,
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
