/**
 * `window.__jitsiOne`: a read-only view of the client's state for system tests and for people debugging in the
 * console. It exposes nothing a page script could not see anyway and changes nothing, except `dropConnection()`,
 * which cuts the XMPP connection as a network failure would (for the reconnect test; anyone in the console could
 * do the same by going offline).
 */
import type { ConnectionStatus, Conference, InboundStats, OutboundVideoStats, P2PInfo } from './conference/conference.js';
import type { LocalMedia } from './conference/local-media.js';
import type { Tile } from './ui/tile.js';

export interface DebugVideo {
  /** Tile key: endpoint id, `local`, or `<id>:screen` / `local:screen` for a screen share. */
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
  /** Remote participants with their mute state, role, raised hand and screen share as shown. */
  participants(): Array<{ id: string; displayName: string; audioMuted: boolean; videoMuted: boolean; role: string | undefined; raisedHand: number; screenSharing: boolean }>;
  /** Our own state: role, raised hand, screen share, and whether the microphone track is live (not muted). */
  local(): { role: string | undefined; handRaised: boolean; screenSharing: boolean; audioMuted: boolean; audioTrackEnabled: boolean | undefined; videoMuted: boolean } | undefined;
  /** The receive heights and on-stage sources last given for the bridge's ReceiverVideoConstraints. */
  receiverConstraints(): { heights: Record<string, number>; onStage: string[] } | undefined;
  mediaState(): string;
  /** Inbound RTP statistics per remote source (framesDecoded, bytesReceived …). */
  stats(): Promise<InboundStats[]>;
  /** Send statistics of the camera's simulcast encodings. */
  outboundVideo(): Promise<OutboundVideoStats[]>;
  /** The video elements of the tiles. */
  videos(): DebugVideo[];
  /** The P2P connection: whether it carries the media, its state and the selected ICE candidate pair. */
  p2p(): Promise<P2PInfo | undefined>;
  /** Bytes sent to the bridge so far (flat while P2P is active). */
  bridgeBytesSent(): Promise<number>;
  /** The XMPP connection: `connected` / `reconnecting`, and its transport. */
  connection(): (ConnectionStatus & { transport: 'websocket' | 'bosh' }) | undefined;
  /** Cuts the XMPP connection without closing the stream (a network failure), to test the reconnect. */
  dropConnection(): void;
}

declare global {
  interface Window {
    __jitsiOne?: DebugHook;
  }
}

let conference: Conference | undefined;
let media: LocalMedia | undefined;
let tiles: ReadonlyMap<string, Tile> = new Map();
let view = 'home';
let connection: ConnectionStatus = { state: 'connected', attempt: 0 };

export function setDebugView(v: string): void {
  view = v;
}

export function setDebugMeeting(c: Conference | undefined, t: ReadonlyMap<string, Tile>, m?: LocalMedia): void {
  conference = c;
  tiles = t;
  media = m;
  connection = { state: 'connected', attempt: 0 };
  c?.on('connection', (status) => {
    connection = status;
  });
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
      [...(conference?.participants.values() ?? [])].map((p) => ({
        id: p.id,
        displayName: p.displayName,
        audioMuted: p.audioMuted,
        videoMuted: p.videoMuted,
        role: p.role,
        raisedHand: p.raisedHand,
        screenSharing: p.screenSharing,
      })),
    local: () =>
      conference === undefined
        ? undefined
        : {
            role: conference.role,
            handRaised: conference.handRaised,
            screenSharing: conference.screenSharing,
            audioMuted: media?.audioMuted ?? true,
            audioTrackEnabled: media?.audioTrack?.enabled,
            videoMuted: media?.videoMuted ?? true,
          },
    receiverConstraints: () => conference?.receiverConstraints,
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
    p2p: async () => conference?.p2pInfo(),
    bridgeBytesSent: async () => (conference === undefined ? 0 : conference.bridgeBytesSent()),
    connection: () => (conference === undefined ? undefined : { ...connection, transport: conference.transport }),
    dropConnection: () => conference?.dropConnection(),
  };
}
