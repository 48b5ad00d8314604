/**
 * The send pipeline of one endpoint (as a receiver), built once; entered by the conference fan-out with a packet
 * this receiver owns (a copy, or the original for the last receiver):
 *
 *   rewrite (RtpMunger: SSRC/seq/ts/PictureID/TL0PICIDX, in place) → header-ext-strip (keep audio-level and
 *   video-orientation, and transport-cc when the receiver negotiated it) → transport-cc-stamp (our own
 *   per-receiver transport-wide sequence number, send time remembered for its feedback) → send (transport; a video
 *   packet's sequence number goes into the stream's sent-packet log with what it was rewritten to, pointing at the
 *   original in its source's cache, which the conference filled at fan-out; then the packet is released)
 *
 * The munger runs before stripping because the VP8 descriptor offsets are those of the unstripped packet.
 *
 * References: PROTOCOL.md §7.2, §7.4 (rewriting; header extensions to keep: "strip every other extension, notably
 * sdes:mid"), §7.6; JVB `HeaderExtStripper.kt`, `TccSeqNumTagger`.
 */
import { findHeaderExtension, type HeaderExtensionIdSet, stripHeaderExtensions, writeTransportCcSeq } from '../rtp/header-ext.js';
import type { PacketInfo } from '../rtp/packet-info.js';
import { consumer, observer, pipeline, transformer, type PacketSink, type Pipeline } from './node.js';
import type { SourcePacketCache } from './packet-cache.js';
import { copyVp8Descriptor, type OutStream, type Subscription } from './subscription.js';
import type { TccSendHistory } from './tcc.js';

/** What the send pipeline needs from its endpoint. */
export interface SendContext {
  nowMs(): number;
  /** Subscription by the packet's original (sender) SSRC. */
  subscription(ssrc: number): Subscription | undefined;
  /** Extension ids kept on forwarded packets (rebuilt when the receiver's media change). */
  readonly keepExtensions: HeaderExtensionIdSet;
  /** transport-cc id of the receiver, -1 when not negotiated. */
  readonly transportCcExtId: number;
  readonly tccHistory: TccSendHistory;
  /** Sends on the transport and counts. */
  sendRtp(buf: Buffer, len: number): void;
}

/** Builds the send pipeline of one endpoint. */
export function buildSendPipeline(ctx: SendContext, release: PacketSink): Pipeline {
  let out: OutStream | undefined;
  let now = 0;
  // What the sent-packet log records for the packet in flight (cache null: not recorded).
  let cache: SourcePacketCache | null = null;
  let pictureId = -1;
  let tl0PicIdx = -1;

  return pipeline('rtp-send', release, (b) => {
    b.node(
      transformer('rewrite', (p) => {
        const sub = ctx.subscription(p.rtp.ssrc);
        if (sub === undefined || sub.out === null) return 'no-subscription';
        now = ctx.nowMs();
        const inTs = p.rtp.timestamp;
        const inSsrc = p.rtp.ssrc;
        const munger = sub.munger;
        if (munger !== null) {
          let vp8 = null;
          if (sub.source.kind === 'video') {
            copyVp8Descriptor(sub.source.vp8, sub.vp8);
            vp8 = sub.vp8;
          }
          const r = munger.munge(p.buffer, 0, p.length, p.encodingIndex < 0 ? 0 : p.encodingIndex, vp8, now);
          if (r !== 'forward') return r;
          const buf = p.buffer;
          p.rtp.ssrc = buf.readUInt32BE(8);
          p.rtp.sequenceNumber = buf.readUInt16BE(2);
          p.rtp.timestamp = buf.readUInt32BE(4);
        }
        out = sub.out;
        out.inSsrc = inSsrc;
        out.tsOffset = (p.rtp.timestamp - inTs) >>> 0;
        cache = null;
        if (out.sentLog !== null && p.cacheId >= 0 && sub.source.kind === 'video') {
          cache = sub.source.packetCache;
          const d = sub.vp8;
          pictureId = d.pictureIdOffset >= 0 ? d.pictureId : -1;
          tl0PicIdx = d.tl0PicIdxOffset >= 0 ? d.tl0PicIdx : -1;
        }
        return p;
      }),
    );
    b.node(
      transformer('header-ext-strip', (p) => {
        p.length = stripHeaderExtensions(p.rtp, ctx.keepExtensions);
        return p;
      }),
    );
    b.node(
      observer('transport-cc-stamp', (p) => {
        const id = ctx.transportCcExtId;
        if (id <= 0 || findHeaderExtension(p.rtp, id) < 0) return;
        const h = ctx.tccHistory;
        if (writeTransportCcSeq(p.rtp, id, h.nextSeq)) {
          p.transportCcSeq = h.onSent(now, p.length);
        }
      }),
    );
    b.node(
      consumer('send', (p: PacketInfo) => {
        const o = out as OutStream;
        ctx.sendRtp(p.buffer, p.length);
        o.packets++;
        o.octets += p.rtp.payloadLength;
        o.lastRtpTs = p.rtp.timestamp;
        o.lastSendMs = now;
        if (cache !== null && o.sentLog !== null) {
          o.sentLog.record(p.rtp.sequenceNumber, cache, p.cacheId, p.rtp.timestamp, pictureId, tl0PicIdx, now);
        }
        release(p);
      }),
    );
  });
}
