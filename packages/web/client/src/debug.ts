/**
 * `window.__jitsiOne`: a read-only view of the client's state for system tests and for people debugging in the
 * console. It exposes nothing a page script could not see anyway and changes nothing.
 */
import type { Conference, InboundStats, OutboundVideoStats } from './conference/conference.js';
import type { Tile } from './ui/tile.js';

export interface DebugVideo {
  /** Endpoint id, or `local`. */
  id: string;
  /** The element has a frame and is not paused. */
  playing: boolean;
  width: number;
  height: number;
}

export interface DebugHook {
  /** The current page: `home`, `prejoin`, `meeting`, `ended` or `error`. */
  view: string;
  endpointId: string | undefined;
  /** Remote participants with their mute state as shown. */
  participants(): Array<{ id: string; displayName: string; audioMuted: boolean; videoMuted: boolean }>;
  mediaState(): string;
  /** Inbound RTP statistics per remote source (framesDecoded, bytesReceived …). */
  stats(): Promise<InboundStats[]>;
  /** Send statistics of the camera's simulcast encodings. */
  outboundVideo(): Promise<OutboundVideoStats[]>;
  /** The video elements of the tiles. */
  videos(): DebugVideo[];
}

declare global {
  interface Window {
    __jitsiOne?: DebugHook;
  }
}

let conference: Conference | undefined;
let tiles: ReadonlyMap<string, Tile> = new Map();
let view = 'home';

export function setDebugView(v: string): void {
  view = v;
}

export function setDebugMeeting(c: Conference | undefined, t: ReadonlyMap<string, Tile>): void {
  conference = c;
  tiles = t;
}

export function installDebugHook(): void {
  window.__jitsiOne = {
    get view() {
      return view;
    },
    get endpointId() {
      return conference?.endpointId;
    },
    participants: () =>
      [...(conference?.participants.values() ?? [])].map((p) => ({ id: p.id, displayName: p.displayName, audioMuted: p.audioMuted, videoMuted: p.videoMuted })),
    mediaState: () => conference?.mediaState ?? 'none',
    stats: async () => (conference === undefined ? [] : conference.inboundStats()),
    outboundVideo: async () => (conference === undefined ? [] : conference.outboundVideoStats()),
    videos: () =>
      [...tiles].map(([id, t]) => ({
        id,
        playing: t.video.readyState >= 2 && !t.video.paused && t.video.videoWidth > 0,
        width: t.video.videoWidth,
        height: t.video.videoHeight,
      })),
  };
}
