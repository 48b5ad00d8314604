/**
 * RTCP of one endpoint. RTCP is terminated per hop (PROTOCOL.md §7.4): nothing an endpoint sends is forwarded as
 * is. The receive side walks a compound packet once and dispatches what it means to the endpoint:
 *
 * - SR (it is a sender): NTP/RTP mapping and LSR of its stream, for our RRs and for lip-sync of our SRs;
 * - SR/RR report blocks (it is a receiver): loss and RTT of what we send it;
 * - generic NACK: retransmit from the NACK cache; PLI/FIR: keyframe request to the source's owner;
 * - REMB / transport-cc feedback: its bandwidth estimate.
 *
 * {@link RtcpWriter} batches generated packets (reports, REMB, transport-cc, PLI) into compound packets.
 *
 * References: RFC 3550 §6.4, RFC 4585 §6.2.1/§6.3.1, RFC 5104 §4.3.1, draft-alvestrand-rmcat-remb-03,
 * draft-holmer-rmcat-transport-wide-cc-extensions-01 §3.1.
 */
import type { PacketInfo } from '../rtp/packet-info.js';
import {
  createReportBlock,
  createSenderInfo,
  firEntryCount,
  firSsrc,
  forEachNackedSeq,
  PsfbFormat,
  readRemb,
  readReportBlock,
  readSenderInfo,
  reportBlockOffset,
  RtcpIterator,
  RtcpPacketType,
  RtcpParseStatus,
  type RtcpRemb,
  type RtcpReportBlock,
  type RtcpSenderInfo,
  RtpfbFormat,
  TransportCcFeedback,
} from '../rtp/rtcp.js';
import { consumer, pipeline, transformer, type PacketSink, type Pipeline } from './node.js';

/** What RTCP termination tells the endpoint. */
export interface RtcpContext {
  /** An SR from the endpoint about one of its own streams. */
  onSenderReport(ssrc: number, info: RtcpSenderInfo): void;
  /** A report block from the endpoint about a stream we send it. */
  onReportBlock(block: RtcpReportBlock): void;
  /** The endpoint lost `seq` of our stream `mediaSsrc`. */
  onNack(mediaSsrc: number, seq: number): void;
  /** PLI or FIR for our stream `mediaSsrc`. */
  onKeyframeRequest(mediaSsrc: number): void;
  /** REMB from the endpoint. */
  onRemb(bitrateBps: number): void;
  /** transport-cc feedback from the endpoint (parsed; valid during the call). */
  onTransportCc(fb: TransportCcFeedback): void;
}

/** Builds the RTCP receive pipeline: validation, then termination. */
export function buildRtcpReceivePipeline(ctx: RtcpContext, release: PacketSink): Pipeline {
  const it = new RtcpIterator();
  const block = createReportBlock();
  const info = createSenderInfo();
  const remb: RtcpRemb = { bitrateBps: 0, ssrcs: [] };
  const tcc = new TransportCcFeedback();
  let nackSsrc = 0;
  const onNackSeq = (seq: number): void => ctx.onNack(nackSsrc, seq);

  return pipeline('rtcp-receive', release, (b) => {
    b.node(
      transformer('rtcp-validate', (p) => {
        // A compound must be well-formed as a whole (RFC 3550 A.2, relaxed for RFC 5506 reduced size).
        let n = 0;
        for (it.reset(p.buffer, p.length); it.next(); ) n++;
        if (it.status !== RtcpParseStatus.Ok) return 'malformed';
        return n === 0 ? 'empty' : p;
      }),
    );
    b.node(
      consumer('rtcp-termination', (p: PacketInfo) => {
        const buf = p.buffer;
        for (it.reset(buf, p.length); it.next(); ) {
          const off = it.offset;
          const len = it.contentLength;
          if (len < 0) continue;
          switch (it.packetType) {
            case RtcpPacketType.SR:
              if (readSenderInfo(buf, off, len, info)) ctx.onSenderReport(it.senderSsrc, info);
              reportBlocks(it.packetType, off, len, it.count);
              break;
            case RtcpPacketType.RR:
              reportBlocks(it.packetType, off, len, it.count);
              break;
            case RtcpPacketType.RTPFB:
              if (it.count === RtpfbFormat.Nack) {
                nackSsrc = it.mediaSsrc;
                if (nackSsrc >= 0) forEachNackedSeq(buf, off, len, onNackSeq);
              } else if (it.count === RtpfbFormat.TransportCc) {
                if (tcc.parse(buf, off, len)) ctx.onTransportCc(tcc);
              }
              break;
            case RtcpPacketType.PSFB:
              if (it.count === PsfbFormat.Pli) {
                const ms = it.mediaSsrc;
                if (ms >= 0) ctx.onKeyframeRequest(ms);
              } else if (it.count === PsfbFormat.Fir) {
                const n = firEntryCount(len);
                for (let i = 0; i < n; i++) ctx.onKeyframeRequest(firSsrc(buf, off, i));
              } else if (it.count === PsfbFormat.Afb) {
                if (readRemb(buf, off, len, remb)) ctx.onRemb(remb.bitrateBps);
              }
              break;
            default:
              // SDES, BYE, APP, XR: nothing to do for a terminating bridge.
              break;
          }
        }
        release(p);
      }),
    );
  });

  function reportBlocks(packetType: number, off: number, len: number, count: number): void {
    for (let i = 0; i < count; i++) {
      const at = reportBlockOffset(packetType, off, len, i);
      if (at < 0) break;
      ctx.onReportBlock(readReportBlock(it.buffer, at, block));
    }
  }
}

/** Accumulates generated RTCP packets into compound packets of at most `mtu` bytes. */
export class RtcpWriter {
  readonly buffer: Buffer;
  offset = 0;
  readonly #send: (buf: Buffer, len: number) => void;

  constructor(send: (buf: Buffer, len: number) => void, mtu = 1200) {
    this.buffer = Buffer.alloc(mtu);
    this.#send = send;
  }

  /** Makes room for `size` bytes, flushing what is there when needed. False if `size` can never fit. */
  reserve(size: number): boolean {
    if (size > this.buffer.length) return false;
    if (this.offset + size > this.buffer.length) this.flush();
    return true;
  }

  /** Sends the pending compound packet, if any. */
  flush(): void {
    if (this.offset === 0) return;
    this.#send(this.buffer, this.offset);
    this.offset = 0;
  }
}

/** NTP timestamp parts from seconds since 1900 (float). */
export function ntpFromSeconds(seconds: number, into: RtcpSenderInfo): void {
  const msw = Math.floor(seconds);
  into.ntpMsw = msw >>> 0;
  into.ntpLsw = Math.floor((seconds - msw) * 0x1_0000_0000) >>> 0;
}

/** Seconds since 1900 of an NTP timestamp. */
export function ntpToSeconds(msw: number, lsw: number): number {
  return msw + lsw / 0x1_0000_0000;
}

