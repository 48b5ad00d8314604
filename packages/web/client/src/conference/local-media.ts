/**
 * The local microphone, camera and screen share. Muting the microphone disables its track (the SSRC keeps flowing,
 * silent); muting the camera stops the camera (its light goes off) and unmuting opens it again, as Jitsi Meet does.
 * The camera and microphone can be chosen (`deviceId`; the UI keeps the choice in local storage). A screen share is
 * a third track from `getDisplayMedia`, sent as a second video source; it ends when the user stops it in the
 * browser's own UI too (`screenShareEnded`).
 */
import { Emitter } from '../events.js';

/** A camera or microphone the browser offers (labels are empty until a permission was given). */
export interface MediaDeviceChoice {
  deviceId: string;
  label: string;
}

/** LJM's default camera constraints: 720p ideal, so simulcast has three layers when the camera can do it. */
const VIDEO_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
};

/** Screen share: a few frames per second suffice for text, more for motion; no audio. */
const DISPLAY_CONSTRAINTS: DisplayMediaStreamOptions = { video: { frameRate: { ideal: 15, max: 30 } }, audio: false };

interface LocalMediaEvents {
  /** A track was started, stopped or muted. */
  changed: undefined;
  /** The screen share ended outside our control (the browser's "Stop sharing"). */
  screenShareEnded: undefined;
}

export class LocalMedia extends Emitter<LocalMediaEvents> {
  #audio: MediaStreamTrack | null = null;
  #video: MediaStreamTrack | null = null;
  #audioMuted = false;
  #videoMuted = false;
  /** Whether a microphone / camera can be used (exists and is allowed). */
  #hasMicrophone = false;
  #hasCamera = false;
  #closed = false;
  /** The chosen devices (`undefined`: the browser's default). */
  #audioDeviceId: string | undefined;
  #videoDeviceId: string | undefined;
  #screen: MediaStreamTrack | null = null;

  /**
   * Opens the microphone and (unless `videoMuted`) the camera, preferring the remembered devices. Devices that are
   * missing or refused are simply absent; the reason is returned for the UI.
   */
  static async open(opts: {
    audioMuted: boolean;
    videoMuted: boolean;
    audioDeviceId?: string | undefined;
    videoDeviceId?: string | undefined;
  }): Promise<{ media: LocalMedia; error?: string }> {
    const media = new LocalMedia();
    media.#audioMuted = opts.audioMuted;
    media.#videoMuted = opts.videoMuted;
    media.#audioDeviceId = opts.audioDeviceId;
    media.#videoDeviceId = opts.videoDeviceId;
    let error: string | undefined;
    if (navigator.mediaDevices?.getUserMedia === undefined) {
      return { media, error: 'This browser cannot use a camera or microphone here (a secure https:// page is needed).' };
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: media.#audioConstraints(false), video: opts.videoMuted ? false : media.#videoConstraints(false) });
      media.#audio = stream.getAudioTracks()[0] ?? null;
      media.#video = stream.getVideoTracks()[0] ?? null;
    } catch {
      // One of the two may be missing or refused: try each alone.
      media.#audio = await tryTrack({ audio: media.#audioConstraints(false) });
      if (!opts.videoMuted) media.#video = await tryTrack({ video: media.#videoConstraints(false) });
      if (media.#audio === null && (opts.videoMuted || media.#video === null)) error = 'No camera or microphone could be used. You can still join and see and hear the others.';
    }
    media.#hasMicrophone = media.#audio !== null;
    media.#hasCamera = media.#video !== null || (opts.videoMuted && (await hasDevice('videoinput')));
    if (media.#audio !== null) media.#audio.enabled = !opts.audioMuted;
    return error === undefined ? { media } : { media, error };
  }

  get audioTrack(): MediaStreamTrack | null {
    return this.#audio;
  }

  get videoTrack(): MediaStreamTrack | null {
    return this.#video;
  }

  get audioMuted(): boolean {
    return this.#audioMuted || this.#audio === null;
  }

  get videoMuted(): boolean {
    return this.#videoMuted || this.#video === null;
  }

  get hasMicrophone(): boolean {
    return this.#hasMicrophone;
  }

  get hasCamera(): boolean {
    return this.#hasCamera;
  }

  /** The screen-share track while sharing. */
  get screenTrack(): MediaStreamTrack | null {
    return this.#screen;
  }

  /** Whether this browser can share a screen (`getDisplayMedia`). */
  static get canShareScreen(): boolean {
    return typeof navigator.mediaDevices?.getDisplayMedia === 'function';
  }

  /** The device in use (or chosen, for a camera that is off); undefined = the default. */
  deviceId(kind: 'audioinput' | 'videoinput'): string | undefined {
    const track = kind === 'audioinput' ? this.#audio : this.#video;
    return track?.getSettings().deviceId ?? (kind === 'audioinput' ? this.#audioDeviceId : this.#videoDeviceId);
  }

  /** The cameras or microphones the browser lists. */
  static async devices(kind: 'audioinput' | 'videoinput'): Promise<MediaDeviceChoice[]> {
    try {
      const all = await navigator.mediaDevices.enumerateDevices();
      return all.filter((d) => d.kind === kind && d.deviceId !== '').map((d, i) => ({ deviceId: d.deviceId, label: d.label || `${kind === 'audioinput' ? 'Microphone' : 'Camera'} ${i + 1}` }));
    } catch {
      return [];
    }
  }

  /**
   * Switches to another microphone or camera. Resolves with the new track (null for a camera that is off: it is used
   * when the camera is turned on). The mute state is kept. Rejects, keeping the old device, when it cannot be opened.
   */
  async switchDevice(kind: 'audioinput' | 'videoinput', deviceId: string): Promise<MediaStreamTrack | null> {
    if (kind === 'videoinput') {
      this.#videoDeviceId = deviceId;
      if (this.#videoMuted || this.#video === null) return null;
      const stream = await navigator.mediaDevices.getUserMedia({ video: this.#videoConstraints(true) });
      const track = stream.getVideoTracks()[0] ?? null;
      if (track === null) throw new Error('no camera track');
      if (this.#closed || this.#videoMuted) {
        track.stop();
        return null;
      }
      this.#video?.stop();
      this.#video = track;
      this.emit('changed', undefined);
      return track;
    }
    this.#audioDeviceId = deviceId;
    const stream = await navigator.mediaDevices.getUserMedia({ audio: this.#audioConstraints(true) });
    const track = stream.getAudioTracks()[0] ?? null;
    if (track === null) throw new Error('no microphone track');
    if (this.#closed) {
      track.stop();
      return null;
    }
    this.#audio?.stop();
    track.enabled = !this.#audioMuted;
    this.#audio = track;
    this.#hasMicrophone = true;
    this.emit('changed', undefined);
    return track;
  }

  /** Asks the browser for a screen, window or tab to share; rejects when the user declines. */
  async startScreenShare(): Promise<MediaStreamTrack> {
    if (this.#screen !== null) return this.#screen;
    const stream = await navigator.mediaDevices.getDisplayMedia(DISPLAY_CONSTRAINTS);
    const track = stream.getVideoTracks()[0];
    if (track === undefined) throw new Error('no screen track');
    for (const t of stream.getTracks()) if (t !== track) t.stop();
    if (this.#closed) {
      track.stop();
      throw new Error('closed');
    }
    if ('contentHint' in track) track.contentHint = 'detail';
    track.addEventListener('ended', () => {
      if (this.#screen !== track) return;
      this.#screen = null;
      this.emit('changed', undefined);
      this.emit('screenShareEnded', undefined);
    });
    this.#screen = track;
    this.emit('changed', undefined);
    return track;
  }

  /** Stops sharing. */
  stopScreenShare(): void {
    const track = this.#screen;
    if (track === null) return;
    this.#screen = null;
    track.stop();
    this.emit('changed', undefined);
  }

  #audioConstraints(exact: boolean): MediaTrackConstraints | boolean {
    const id = this.#audioDeviceId;
    return id === undefined ? true : { deviceId: exact ? { exact: id } : { ideal: id } };
  }

  #videoConstraints(exact: boolean): MediaTrackConstraints {
    const id = this.#videoDeviceId;
    return id === undefined ? VIDEO_CONSTRAINTS : { ...VIDEO_CONSTRAINTS, deviceId: exact ? { exact: id } : { ideal: id } };
  }

  setAudioMuted(muted: boolean): void {
    this.#audioMuted = muted;
    if (this.#audio !== null) this.#audio.enabled = !muted;
    this.emit('changed', undefined);
  }

  /** Stops or restarts the camera; resolves with the new camera track (null when muted or unavailable). */
  async setVideoMuted(muted: boolean): Promise<MediaStreamTrack | null> {
    this.#videoMuted = muted;
    if (muted) {
      this.#video?.stop();
      this.#video = null;
    } else if (this.#video === null) {
      const track = await tryTrack({ video: this.#videoConstraints(false) });
      if (this.#closed || this.#videoMuted) {
        track?.stop();
      } else {
        this.#video = track;
        if (track !== null) this.#hasCamera = true;
      }
    }
    this.emit('changed', undefined);
    return this.#video;
  }

  /** Stops every track. */
  close(): void {
    this.#closed = true;
    this.#audio?.stop();
    this.#video?.stop();
    this.#screen?.stop();
    this.#audio = null;
    this.#video = null;
    this.#screen = null;
    this.removeAllListeners();
  }
}

async function tryTrack(constraints: MediaStreamConstraints): Promise<MediaStreamTrack | null> {
  try {
    const stream = await navigator.mediaDevices.getUserMedia(constraints);
    return stream.getTracks()[0] ?? null;
  } catch {
    return null;
  }
}

async function hasDevice(kind: MediaDeviceKind): Promise<boolean> {
  try {
    return (await navigator.mediaDevices.enumerateDevices()).some((d) => d.kind === kind);
  } catch {
    return false;
  }
}
