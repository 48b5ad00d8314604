/**
 * The local microphone and camera. Muting the microphone disables its track (the SSRC keeps flowing, silent);
 * muting the camera stops the camera (its light goes off) and unmuting opens it again, as Jitsi Meet does.
 *
 * TODO(#6): device choice (enumerateDevices + deviceId constraints, kept in local storage) and screen share.
 */
import { Emitter } from '../events.js';

/** LJM's default camera constraints: 720p ideal, so simulcast has three layers when the camera can do it. */
const VIDEO_CONSTRAINTS: MediaTrackConstraints = {
  width: { ideal: 1280 },
  height: { ideal: 720 },
  frameRate: { ideal: 30 },
};

interface LocalMediaEvents {
  /** A track was started, stopped or muted. */
  changed: undefined;
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

  /**
   * Opens the microphone and (unless `videoMuted`) the camera. Devices that are missing or refused are simply
   * absent; the reason is returned for the UI.
   */
  static async open(opts: { audioMuted: boolean; videoMuted: boolean }): Promise<{ media: LocalMedia; error?: string }> {
    const media = new LocalMedia();
    media.#audioMuted = opts.audioMuted;
    media.#videoMuted = opts.videoMuted;
    let error: string | undefined;
    if (navigator.mediaDevices?.getUserMedia === undefined) {
      return { media, error: 'This browser cannot use a camera or microphone here (a secure https:// page is needed).' };
    }
    try {
      const stream = await navigator.mediaDevices.getUserMedia({ audio: true, video: opts.videoMuted ? false : VIDEO_CONSTRAINTS });
      media.#audio = stream.getAudioTracks()[0] ?? null;
      media.#video = stream.getVideoTracks()[0] ?? null;
    } catch {
      // One of the two may be missing or refused: try each alone.
      media.#audio = await tryTrack({ audio: true });
      if (!opts.videoMuted) media.#video = await tryTrack({ video: VIDEO_CONSTRAINTS });
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
      const track = await tryTrack({ video: VIDEO_CONSTRAINTS });
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
    this.#audio = null;
    this.#video = null;
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
