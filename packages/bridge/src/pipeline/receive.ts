/**
 * The receive pipelines of one endpoint (as a sender), built once when the endpoint is created:
 *
 * RTP (decrypted by the transport, copied into a pooled PacketInfo by the endpoint):
 *   rtp-parse → ssrc-lookup (drop unknown SSRC) → transport-cc-recorder → demux(kind)
 *     audio: force-mute → receive-stats → audio-level → speech-activity → silence-filter → fan-out
 *     video: force-mute → padding-termination → rtx-unwrap → duplicate-filter → loss-detection → receive-stats
 *            → vp8-parse → layer-tracker → fan-out
 *
 * The order on the video path is JVB's (PROTOCOL.md §7.4: padding termination → RTX → duplicate termination →
 * video parser): probes (padding-only packets, RTX copies of packets we already have) never reach the parser or
 * a receiver. Every drop is counted on the node that made it. Loss detection marks skipped sequence numbers of a
 * video stream for a NACK to the sender (pipeline/nack-requester.ts), and clears them when the RTX arrives; padding
 * on a media SSRC and video dropped while force-muted count as received there.
 *
 * RTCP: rtcp-validate → rtcp-termination (pipeline/rtcp.ts).
 */
import { audioLevelDbov, readAudioLevel, readTransportCcSeq } from '../rtp/header-ext.js';
import { MediaKind, type PacketInfo } from '../rtp/packet-info.js';
import { parseVp8PayloadDescriptor } from '../codecs/vp8.js';
import type { EndpointMediaInfo } from '../colibri/medias.js';
import type { ForceMute } from '../colibri/types.js';
import type { Source, VideoSource } from '../source.js';
import type { SeqWindow } from './duplicate-filter.js';
import type { NackRequester } from './nack-requester.js';
import { consumer, filter, observer, pipeline, transformer, type PacketSink, type Pipeline } from './node.js';
import type { ReceiveStreamStats } from './receive-stats.js';
import { unwrapRtx } from './rtx.js';

/** One SSRC an endpoint sends. */
export interface IncomingStream {
  readonly ssrc: number;
  readonly kind: 'audio' | 'video';
  readonly source: Source;
  /** Encoding index (0 for audio). */
  readonly encoding: number;
  /** For an RTX SSRC: the stream it repairs; null for media SSRCs. */
  readonly repairs: IncomingStream | null;
  /** Receive statistics (media SSRCs). */
  readonly stats: ReceiveStreamStats;
  /** Duplicate detection (video media SSRCs). */
  readonly dedupe: SeqWindow | null;
  /** Missing sequence numbers to request from the sender (video media SSRCs). */
  readonly nacks: NackRequester | null;
}

/** What the receive pipelines need from their endpoint. */
export interface ReceiveContext {
  nowMs(): number;
  /** The endpoint's SSRC table. */
  incoming(ssrc: number): IncomingStream | undefined;
  /** What the endpoint negotiated (read per packet; the object may be replaced, so read through the getter). */
  readonly media: EndpointMediaInfo;
  readonly forceMute: Readonly<ForceMute>;
  readonly dropSilence: boolean;
  /** The transport-cc recorder of this endpoint. */
  recordTransportCc(seq: number, arrivalUs: number): void;
  /** Speech activity input (level 0–127 −dBov). */
  onAudioLevel(level: number, nowMs: number): void;
  /** A layer of a video source became active: re-run allocation (deferred, not per packet). */
  onLayerActivated(source: VideoSource): void;
  /** Packets of a video stream were found missing: request them from the sender (not per packet). */
  onVideoLoss(stream: IncomingStream, nowMs: number): void;
  /** Hands the packet to the conference fan-out (takes ownership). */
  fanOut(p: PacketInfo, stream: IncomingStream): void;
}

/** Builds the RTP receive pipeline of one endpoint. */
export function buildRtpReceivePipeline(ctx: ReceiveContext, release: PacketSink): Pipeline {
  // The stream of the packet in flight, shared by the nodes below (the pipeline is synchronous).
  let stream: IncomingStream | undefined;
  let now = 0;

  const isAudio = (p: PacketInfo): boolean => p.mediaKind === MediaKind.Audio;
  const isVideo = (p: PacketInfo): boolean => p.mediaKind === MediaKind.Video;
  const toConference = (p: PacketInfo): void => {
    ctx.fanOut(p, stream as IncomingStream);
  };

  return pipeline('rtp-receive', release, (b) => {
    b.node(
      transformer('rtp-parse', (p) => {
        if (p.parseRtp() !== 0) return 'malformed';
        now = p.receivedTimeUs / 1000;
        return p;
      }),
    );
    b.node(
      transformer('ssrc-lookup', (p) => {
        const s = ctx.incoming(p.rtp.ssrc);
        if (s === undefined) return 'unknown-ssrc';
        stream = s;
        p.mediaKind = s.kind === 'audio' ? MediaKind.Audio : MediaKind.Video;
        p.encodingIndex = s.encoding;
        return p;
      }),
    );
    b.node(
      observer('transport-cc-recorder', (p) => {
        const id = ctx.media.transportCcExtId;
        if (id <= 0) return;
        const seq = readTransportCcSeq(p.rtp, id);
        if (seq >= 0) {
          p.transportCcSeq = seq;
          ctx.recordTransportCc(seq, p.receivedTimeUs);
        }
      }),
    );
    b.demux('kind', (d) => {
      d.path('audio', isAudio, (a) => {
        a.node(filter('force-mute', () => ctx.forceMute.audio !== true, 'force-muted'));
        a.node(
          observer('receive-stats', (p) => {
            (stream as IncomingStream).stats.update(p.rtp.sequenceNumber, p.rtp.timestamp, now, p.length);
          }),
        );
        a.node(
          observer('audio-level', (p) => {
            const id = ctx.media.audioLevelExtId;
            if (id > 0) p.audioLevel = readAudioLevel(p.rtp, id);
          }),
        );
        a.node(
          observer('speech-activity', (p) => {
            if (p.audioLevel >= 0) ctx.onAudioLevel(audioLevelDbov(p.audioLevel), now);
          }),
        );
        a.node(filter('silence-filter', (p) => !(ctx.dropSilence && p.audioLevel >= 0 && audioLevelDbov(p.audioLevel) === 127), 'silence'));
        a.node(consumer('fan-out', toConference));
      });
      d.path('video', isVideo, (v) => {
        // Loss detection must see every sequence number of a media SSRC, also of packets dropped before it (padding
        // of a sender without RTX, video dropped while force-muted), or it would ask the sender for them.
        const seen = (p: PacketInfo): void => {
          const s = stream as IncomingStream;
          if (s.nacks !== null && s.nacks.onPacket(p.rtp.sequenceNumber, now) > 0) ctx.onVideoLoss(s, now);
        };
        v.node(
          transformer('force-mute', (p) => {
            if (ctx.forceMute.video !== true) return p;
            seen(p);
            return 'force-muted';
          }),
        );
        v.node(
          transformer('padding-termination', (p) => {
            if (!p.rtp.isPaddingOnly) return p;
            seen(p);
            return 'padding-only';
          }),
        );
        v.node(
          transformer('rtx-unwrap', (p) => {
            const s = stream as IncomingStream;
            const original = s.repairs;
            if (original === null) return p;
            const apt = ctx.media.aptByRtx.get(p.rtp.payloadType) ?? -1;
            const r = unwrapRtx(p, original.ssrc, apt);
            if (r !== 'ok') return r;
            stream = original;
            return p;
          }),
        );
        v.node(
          transformer('duplicate-filter', (p) => {
            const dedupe = (stream as IncomingStream).dedupe;
            if (dedupe === null) return p;
            const r = dedupe.check(p.rtp.sequenceNumber);
            return r === 'new' ? p : r;
          }),
        );
        v.node(
          observer('loss-detection', seen),
        );
        v.node(
          observer('receive-stats', (p) => {
            if (!p.isRetransmission) (stream as IncomingStream).stats.update(p.rtp.sequenceNumber, p.rtp.timestamp, now, p.length);
          }),
        );
        v.node(
          transformer('vp8-parse', (p) => {
            const vp8Pts = ctx.media.vp8PayloadTypes;
            if (vp8Pts.size > 0 && !vp8Pts.has(p.rtp.payloadType)) return 'unsupported-codec';
            const src = (stream as IncomingStream).source as VideoSource;
            const d = src.vp8;
            const r = parseVp8PayloadDescriptor(p.buffer, p.rtp.payloadOffset, p.rtp.payloadLength, d);
            if (r !== 'ok') return r;
            const f = src.frame;
            f.temporalLayer = d.tid;
            f.layerSync = d.layerSync;
            f.isKeyframe = d.isKeyframe;
            f.isStartOfFrame = d.isStartOfFrame;
            p.isKeyframe = d.isKeyframe;
            p.isStartOfFrame = d.isStartOfFrame;
            p.isEndOfFrame = p.rtp.marker;
            p.temporalLayer = d.tid;
            return p;
          }),
        );
        v.node(
          observer('layer-tracker', (p) => {
            const s = stream as IncomingStream;
            const src = s.source as VideoSource;
            if (p.isRetransmission) return;
            if (src.layers.update(s.encoding, p.temporalLayer, p.length, now)) ctx.onLayerActivated(src);
            if (p.isKeyframe && src.vp8.height > 0) src.layers.setHeight(s.encoding, src.vp8.height);
          }),
        );
        v.node(consumer('fan-out', toConference));
      });
    });
  });
}
