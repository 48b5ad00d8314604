/**
 * Control channel between the bridge bench (parent, bench/bridge/index.ts) and the bridge process
 * (child, bench/bridge/bridge-server.ts): JSON lines. The parent writes one {@link ControlRequest}
 * per line on the child's stdin; the child writes one {@link ControlMessage} per line on its
 * stdout (first `ready`, then one `reply` per request, in any order, matched by `id`). Nothing
 * else goes to the child's stdout: its logs go to stderr.
 */
import type { ConferenceModified, ConferenceModify, ReceiverVideoConstraints } from '@jitsi-one/bridge';

export type ControlRequest =
  | { id: number; op: 'conferenceModify'; req: ConferenceModify }
  | { id: number; op: 'setReceiverConstraints'; meetingId: string; endpointId: string; constraints: ReceiverVideoConstraints }
  | { id: number; op: 'setReceiverAudioSubscription'; meetingId: string; endpointId: string; all: boolean }
  | { id: number; op: 'transportStates'; meetingId: string }
  | { id: number; op: 'stats'; meetingId: string }
  | { id: number; op: 'profileStart' }
  /** Stops the profiler and writes the profile to `path` (a .cpuprofile, Chrome DevTools format). */
  | { id: number; op: 'profileStop'; path: string }
  | { id: number; op: 'exit' };

/** What {@link ControlRequest} `stats` returns: cumulative counters of the bridge process. */
export interface BridgeCounters {
  /** performance.now() in the child when the snapshot was taken (ms). */
  atMs: number;
  /** RTP packets the endpoints received (after SRTP), summed. */
  rtpReceived: number;
  /** RTP packets the endpoints sent (forwarded + retransmissions), summed. */
  rtpSent: number;
  bytesSent: number;
  /** Datagrams in/out of the shared UDP port. */
  muxIn: number;
  muxOut: number;
  /** Sends libuv had to queue (kernel send buffer full). */
  muxSendsQueued: number;
  /** Mux drops by reason (only non-zero ones). */
  muxDrops: Record<string, number>;
  /** Transport drops summed over endpoints, by reason (only non-zero ones). */
  transportDrops: Record<string, number>;
  /** Pipeline drops summed over endpoints, `node/reason` → count (only non-zero ones). */
  pipelineDrops: Record<string, number>;
  /** Keyframe requests the bridge sent to senders, summed. */
  keyframeRequests: number;
  /** Packet pool counters. */
  pool: { created: number; pooled: number; reused: number };
  /** Forwarded layers per receiver: `encoding` of each forwarded source, -1 when none, summed by encoding. */
  layerHistogram: Record<string, number>;
  /** V8 heap used (bytes). */
  heapUsed: number;
  /** With BENCH_BRIDGE_TIME_SENDS: UdpMux.send calls and the wall time spent in them (µs). */
  sends?: { count: number; us: number };
}

export type ControlReply =
  | { type: 'reply'; id: number; ok: true; result?: unknown }
  | { type: 'reply'; id: number; ok: false; error: string };

export type ControlMessage =
  | { type: 'ready'; pid: number; port: number }
  | { type: 'fatal'; error: string }
  | ControlReply;

/** Replies of the typed requests. */
export interface ReplyOf {
  conferenceModify: ConferenceModified;
  setReceiverConstraints: undefined;
  setReceiverAudioSubscription: undefined;
  transportStates: Record<string, string>;
  stats: BridgeCounters;
  profileStart: undefined;
  profileStop: { path: string };
  exit: undefined;
}

/** Line prefix of control messages on the child's stdout (anything else there is ignored). */
export const CONTROL_PREFIX = '@@bridge ';
