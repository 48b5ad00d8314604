/**
 * Bench-side view of test/participant.ts participants. Only the Participant's public API is used (join, openedAt,
 * offer, acceptResult, connected(), received, firstKeyFrameAt, remote, problems, leave), nothing in test/ is changed.
 *
 * - {@link Member}: a participant plus what the bench knows of it (nick, SSRCs).
 * - {@link JoinProbe}: the timeline of one measured join, in ms after `Participant.openedAt` (performance.now() just
 *   before the XMPP connection is opened): XMPP join done (MUC self-presence), Jingle session-initiate received,
 *   session-accept answered, ICE + DTLS with the bridge up, first video RTP and first VP8 key frame from each other
 *   participant. The key frame times are the Participant's own (taken in its RTP handler); the other phases are
 *   sampled by a 2 ms poll of the Participant's state while the join is measured, so they are late by up to ~2 ms
 *   plus any event-loop delay of this process.
 */
import { randomBytes } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Participant } from '../../test/participant.js';

export interface Ssrcs {
  audio: number;
  video: number;
  rtx: number;
}

export interface JoinTarget {
  wsUrl: string;
  domain: string;
  focusDomain: string;
}

let ssrcCounter = 0;

/** A fresh LJM-style endpoint id (8 hex digits) and SSRCs unique within this process. */
export function newIdentity(): { nick: string; ssrcs: Ssrcs } {
  const n = ++ssrcCounter;
  const base = 0x1000_0000 + n * 0x10;
  return { nick: randomBytes(4).toString('hex'), ssrcs: { audio: base + 1, video: base + 2, rtx: base + 3 } };
}

export class Member {
  readonly p: Participant;
  readonly nick: string;
  readonly ssrcs: Ssrcs;

  constructor(p: Participant, nick: string, ssrcs: Ssrcs) {
    this.p = p;
    this.nick = nick;
    this.ssrcs = ssrcs;
  }

  static async join(target: JoinTarget, room: string): Promise<Member> {
    const { nick, ssrcs } = newIdentity();
    const p = await Participant.join({ ...target, room, nick, ssrcs });
    return new Member(p, nick, ssrcs);
  }

  /** True once a VP8 key frame from every one of `others` (itself excepted) has arrived here. */
  hasKeyFramesFrom(others: readonly Member[]): boolean {
    return others.every((o) => o === this || this.p.firstKeyFrameAt.has(o.ssrcs.video));
  }

  leave(): Promise<void> {
    return this.p.leave();
  }
}

/** One measured join: phases in ms after the participant started opening its XMPP connection. */
export interface JoinTimeline {
  /** MUC self-presence received (WebSocket + SASL + bind + conference IQ + MUC join). */
  joinedMs: number;
  /** Jingle session-initiate received; undefined if it arrived before the join call returned (then ≤ joinedMs). */
  offerMs: number | undefined;
  /** The focus answered our session-accept. */
  acceptedMs: number | undefined;
  /** ICE and DTLS with the bridge up (werift's DTLS transport `connected`). */
  connectedMs: number | undefined;
  /** First video RTP packet from each other participant, by nick. */
  firstVideoMs: Record<string, number>;
  /** First VP8 key frame from each other participant, by nick (the measured quantity). */
  keyFrameMs: Record<string, number>;
  /** Time until key frames from all others had arrived (max of keyFrameMs). */
  allKeyFramesMs: number;
}

export class JoinProbe {
  readonly member: Member;
  readonly others: readonly Member[];
  readonly joinedAt: number;
  offerAt: number | undefined;
  acceptedAt: number | undefined;
  connectedAt: number | undefined;
  readonly firstVideoAt = new Map<number, number>();
  readonly #timer: NodeJS.Timeout;

  private constructor(member: Member, others: readonly Member[]) {
    this.member = member;
    this.others = others;
    this.joinedAt = performance.now();
    const offerEarly = member.p.offer !== undefined;
    this.#timer = setInterval(() => this.#poll(offerEarly), 2);
    this.#poll(offerEarly);
  }

  /** Joins a new participant into `room`, where `others` are present, and starts recording its timeline. */
  static async join(target: JoinTarget, room: string, others: readonly Member[]): Promise<JoinProbe> {
    const member = await Member.join(target, room);
    return new JoinProbe(member, others);
  }

  #poll(offerEarly: boolean): void {
    const p = this.member.p;
    const now = performance.now();
    if (!offerEarly && this.offerAt === undefined && p.offer !== undefined) this.offerAt = now;
    if (this.acceptedAt === undefined && p.acceptResult !== undefined) this.acceptedAt = now;
    if (this.connectedAt === undefined && p.connected()) this.connectedAt = now;
    for (const o of this.others) {
      const v = o.ssrcs.video;
      if (!this.firstVideoAt.has(v) && (p.received.get(v) ?? 0) > 0) this.firstVideoAt.set(v, now);
    }
    if (this.done()) clearInterval(this.#timer);
  }

  /** True once key frames from all others have arrived. */
  done(): boolean {
    return this.member.hasKeyFramesFrom(this.others);
  }

  /** Stops sampling (the timeline keeps what it has). */
  stop(): void {
    clearInterval(this.#timer);
  }

  /** What is still missing (for timeout messages). */
  missing(): string {
    const p = this.member.p;
    const lacking = this.others.filter((o) => !p.firstKeyFrameAt.has(o.ssrcs.video)).map((o) => o.nick);
    const accepted = String(p.acceptResult?.attrs.type ?? '-');
    const state = `offer ${p.offer !== undefined}, accepted ${accepted}, connected ${p.connected()}`;
    const problems = p.problems.length ? `; problems: ${p.problems.join('; ')}` : '';
    return `${this.member.nick}: no key frame yet from ${lacking.length} of ${this.others.length} (${state})${problems}`;
  }

  timeline(): JoinTimeline {
    this.stop();
    const p = this.member.p;
    const t0 = p.openedAt;
    const rel = (t: number | undefined): number | undefined => (t === undefined ? undefined : t - t0);
    const firstVideoMs: Record<string, number> = {};
    const keyFrameMs: Record<string, number> = {};
    let all = 0;
    for (const o of this.others) {
      const k = p.firstKeyFrameAt.get(o.ssrcs.video);
      // The poll may see the first packet after the key frame's exact time; a key frame is a video packet too.
      const v = Math.min(this.firstVideoAt.get(o.ssrcs.video) ?? Infinity, k ?? Infinity);
      if (v !== Infinity) firstVideoMs[o.nick] = v - t0;
      if (k !== undefined) {
        keyFrameMs[o.nick] = k - t0;
        all = Math.max(all, k - t0);
      }
    }
    return {
      joinedMs: this.joinedAt - t0,
      offerMs: rel(this.offerAt),
      acceptedMs: rel(this.acceptedAt),
      connectedMs: rel(this.connectedAt),
      firstVideoMs,
      keyFrameMs,
      allKeyFramesMs: all,
    };
  }
}
