/**
 * Receive statistics of one incoming media SSRC, for the receiver reports the bridge sends to the sender (RTCP is
 * terminated per hop) and for the stats snapshot: extended highest sequence number, cumulative and interval
 * loss, interarrival jitter, and the last sender report (LSR/DLSR).
 *
 * References: RFC 3550 §6.4.1 (report block fields), Appendix A.3 (expected/lost/fraction), A.8 (jitter):
 * https://www.rfc-editor.org/rfc/rfc3550#appendix-A.3
 */
import type { RtcpReportBlock, RtcpSenderInfo } from '../rtp/rtcp.js';
import { ExtendedSeqTracker, timestampDelta } from '../rtp/seq.js';

/** Middle 32 bits of a 64-bit NTP timestamp (the LSR field). */
export function ntpMiddle(msw: number, lsw: number): number {
  return (((msw & 0xffff) << 16) | (lsw >>> 16)) >>> 0;
}

/** Per-SSRC receive statistics. `update()` once per (non-duplicate, non-retransmitted) packet. */
export class ReceiveStreamStats {
  readonly clockRateHz: number;
  readonly #seq = new ExtendedSeqTracker();
  #base = -1;
  /** Packets counted. */
  packets = 0;
  /** Bytes counted (whole RTP packets). */
  bytes = 0;
  #expectedPrior = 0;
  #receivedPrior = 0;
  /** Interarrival jitter in timestamp units (RFC 3550 A.8, not rounded). */
  jitter = 0;
  #lastArrivalMs = Number.NaN;
  #lastTs = 0;
  /** Fraction lost in the last report interval (0–1). */
  lossFraction = 0;
  /** LSR of the last sender report, 0 before any. */
  lastSrNtpMiddle = 0;
  /** When that SR arrived (ms), -Infinity before any. */
  lastSrReceivedMs = -Infinity;
  /** NTP↔RTP mapping of the last SR. */
  readonly lastSr: RtcpSenderInfo = { ntpMsw: 0, ntpLsw: 0, rtpTimestamp: 0, packetCount: 0, octetCount: 0 };

  constructor(clockRateHz: number) {
    this.clockRateHz = clockRateHz;
  }

  /** Records one packet. */
  update(seq: number, rtpTimestamp: number, arrivalMs: number, bytes: number): void {
    const ext = this.#seq.update(seq);
    if (this.#base < 0 || ext < this.#base) this.#base = Math.max(0, ext);
    this.packets++;
    this.bytes += bytes;
    if (!Number.isNaN(this.#lastArrivalMs)) {
      const d = ((arrivalMs - this.#lastArrivalMs) * this.clockRateHz) / 1000 - timestampDelta(rtpTimestamp, this.#lastTs);
      this.jitter += (Math.abs(d) - this.jitter) / 16;
    }
    this.#lastArrivalMs = arrivalMs;
    this.#lastTs = rtpTimestamp;
  }

  /** Records the sender's SR for this SSRC. */
  onSenderReport(info: RtcpSenderInfo, nowMs: number): void {
    this.lastSrNtpMiddle = ntpMiddle(info.ntpMsw, info.ntpLsw);
    this.lastSrReceivedMs = nowMs;
    this.lastSr.ntpMsw = info.ntpMsw;
    this.lastSr.ntpLsw = info.ntpLsw;
    this.lastSr.rtpTimestamp = info.rtpTimestamp;
    this.lastSr.packetCount = info.packetCount;
    this.lastSr.octetCount = info.octetCount;
  }

  /** Expected packets so far (highest − first + 1). */
  get expected(): number {
    return this.packets === 0 ? 0 : this.#seq.highest - this.#base + 1;
  }

  /** Packets lost so far (may be negative with duplicates, RFC 3550 A.3). */
  get cumulativeLost(): number {
    return this.expected - this.packets;
  }

  /**
   * Fills a report block about `ssrc` at `nowMs` and starts a new interval. False (nothing filled) before the
   * first packet.
   */
  fillReportBlock(ssrc: number, into: RtcpReportBlock, nowMs: number): boolean {
    if (this.packets === 0) return false;
    const expected = this.expected;
    const expectedInterval = expected - this.#expectedPrior;
    const receivedInterval = this.packets - this.#receivedPrior;
    this.#expectedPrior = expected;
    this.#receivedPrior = this.packets;
    const lostInterval = expectedInterval - receivedInterval;
    const fraction = expectedInterval <= 0 || lostInterval <= 0 ? 0 : Math.min(255, Math.floor((lostInterval * 256) / expectedInterval));
    this.lossFraction = fraction / 256;
    into.ssrc = ssrc >>> 0;
    into.fractionLost = fraction;
    into.cumulativeLost = this.cumulativeLost;
    into.extendedHighestSeq = this.#seq.highest >>> 0;
    into.jitter = Math.floor(this.jitter) >>> 0;
    if (this.lastSrNtpMiddle !== 0) {
      into.lastSr = this.lastSrNtpMiddle;
      into.delaySinceLastSr = Math.max(0, Math.floor(((nowMs - this.lastSrReceivedMs) * 65536) / 1000)) >>> 0;
    } else {
      into.lastSr = 0;
      into.delaySinceLastSr = 0;
    }
    return true;
  }
}
