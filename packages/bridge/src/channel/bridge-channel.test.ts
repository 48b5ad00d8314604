import { describe, expect, it, vi } from 'vitest';
import pino from 'pino';
import { BridgeChannel, CLOSE_REPLACED, broadcast, type ChannelTransport } from './bridge-channel.js';
import {
  buildDominantSpeakerChange,
  buildEndpointStats,
  buildForwardedSources,
  buildRelayedEndpointMessage,
  buildSenderSourceConstraints,
  buildVideoSourcesMap,
  serializeMessage,
} from './messages.js';

class FakeTransport implements ChannelTransport {
  readonly kind = 'fake';
  open = true;
  buffered = 0;
  sent: string[] = [];
  closedWith: { code: number; reason: string } | undefined;
  isOpen(): boolean {
    return this.open;
  }
  send(text: string): void {
    this.sent.push(text);
  }
  bufferedAmount(): number {
    return this.buffered;
  }
  close(code: number, reason: string): void {
    this.open = false;
    this.closedWith = { code, reason };
  }
  classes(): string[] {
    return this.sent.map((t) => (JSON.parse(t) as { colibriClass: string }).colibriClass);
  }
}

const rvc = '{"colibriClass":"ReceiverVideoConstraints","lastN":2}';

describe('BridgeChannel', () => {
  it('dispatches each inbound class to its callback', () => {
    const calls: unknown[][] = [];
    const ch = new BridgeChannel({
      endpointId: 'a',
      handlers: {
        onReceiverVideoConstraints: (c) => calls.push(['rvc', c]),
        onLastN: (n) => calls.push(['lastN', n]),
        onEndpointMessage: (to, m) => calls.push(['em', to, m]),
        onEndpointStats: (s) => calls.push(['stats', s]),
        onSourceVideoType: (s, t) => calls.push(['svt', s, t]),
        onVideoType: (t) => calls.push(['vt', t]),
        onReceiverAudioSubscription: (s) => calls.push(['ras', s]),
      },
    });
    ch.onMessage(rvc);
    ch.onMessage('{"colibriClass":"LastNChangedEvent","lastN":4}');
    ch.onMessage('{"colibriClass":"EndpointMessage","to":"b","msgPayload":{"x":1}}');
    ch.onMessage(Buffer.from('{"colibriClass":"EndpointStats","jvbRTT":3}'));
    ch.onMessage('{"colibriClass":"SourceVideoTypeMessage","sourceName":"a-v0","videoType":"desktop"}');
    ch.onMessage('{"colibriClass":"VideoTypeMessage","videoType":"camera"}');
    ch.onMessage('{"colibriClass":"ReceiverAudioSubscription","all":false,"include":["x-a0"],"exclude":[]}');
    expect(calls).toEqual([
      ['rvc', { lastN: 2 }],
      ['lastN', 4],
      ['em', 'b', { to: 'b', msgPayload: { x: 1 } }],
      ['stats', { jvbRTT: 3 }],
      ['svt', 'a-v0', 'desktop'],
      ['vt', 'camera'],
      ['ras', { all: false, include: ['x-a0'], exclude: [] }],
    ]);
    expect(ch.stats().received).toMatchObject({ ReceiverVideoConstraints: 1, EndpointMessage: 1 });
  });

  it('counts invalid frames and never throws', () => {
    const onReceiverVideoConstraints = vi.fn();
    const ch = new BridgeChannel({ endpointId: 'a', handlers: { onReceiverVideoConstraints }, maxMessageBytes: 100 });
    expect(ch.onMessage('{')).toBe(false);
    expect(ch.onMessage('{"colibriClass":"Nope"}')).toBe(false);
    expect(ch.onMessage('{"colibriClass":"EndpointMessage"}')).toBe(false);
    expect(ch.onMessage('x'.repeat(101))).toBe(false);
    expect(ch.onMessage(Buffer.from('{}'), true)).toBe(false);
    expect(ch.onMessage('{"colibriClass":"LastNChangedEvent","lastN":1}')).toBe(true); // no onLastN bound
    expect(ch.stats().inboundDropped).toEqual({
      tooLarge: 1,
      tooDeep: 0,
      binary: 1,
      invalidJson: 1,
      notAMessage: 0,
      unknownClass: 1,
      invalidFields: 1,
      unhandled: 1,
      handlerError: 0,
    });
    expect(onReceiverVideoConstraints).not.toHaveBeenCalled();
  });

  it('catches and counts exceptions thrown by a callback', () => {
    const lines: string[] = [];
    const log = pino({ level: 'info' }, { write: (l: string) => void lines.push(l) });
    const ch = new BridgeChannel({
      endpointId: 'a',
      log,
      handlers: {
        onReceiverVideoConstraints: () => {
          throw new Error('model bug');
        },
      },
    });
    expect(() => ch.onMessage(rvc)).not.toThrow();
    expect(ch.stats().inboundDropped.handlerError).toBe(1);
    expect(lines.some((l) => l.includes('bridge channel handler failed'))).toBe(true);
  });

  it('holds inbound messages until handlers are bound, then dispatches them in order', () => {
    const ch = new BridgeChannel({ endpointId: 'a' });
    ch.onMessage(rvc);
    ch.onMessage('{"colibriClass":"LastNChangedEvent","lastN":7}');
    const seen: unknown[] = [];
    ch.bind({ onReceiverVideoConstraints: (c) => seen.push(c), onLastN: (n) => seen.push(n) });
    expect(seen).toEqual([{ lastN: 2 }, 7]);
    expect(() => ch.bind({})).toThrow(/already bound/);
  });

  it('sends immediately when open, serializing once', () => {
    const ch = new BridgeChannel({ endpointId: 'a', handlers: {} });
    const t = new FakeTransport();
    ch.attach(t, { serverHello: true });
    expect(ch.send(buildForwardedSources(['b-v0']))).toBe(true);
    expect(t.sent).toEqual(['{"colibriClass":"ServerHello"}', '{"colibriClass":"ForwardedSources","forwardedSources":["b-v0"]}']);
    expect(ch.stats()).toMatchObject({ open: true, sent: 2, connects: 1 });
  });

  it('queues while disconnected and flushes after ServerHello, coalescing state messages', () => {
    const onConnected = vi.fn();
    const ch = new BridgeChannel({ endpointId: 'a', handlers: { onConnected }, serverVersion: '0.1.0' });
    ch.send(buildForwardedSources(['b-v0']));
    ch.send(buildDominantSpeakerChange('b'));
    ch.send(buildVideoSourcesMap([{ source: 'b-v0', owner: 'b', ssrc: 1, rtx: 2, videoType: 'camera' }]));
    ch.send(buildSenderSourceConstraints('a-v0', 180));
    ch.send(buildForwardedSources(['b-v0', 'c-v0'])); // supersedes the first
    ch.send(buildSenderSourceConstraints('a-v0', 720)); // supersedes the 180
    ch.send(buildSenderSourceConstraints('a-v1', 360)); // another source: kept
    ch.send(buildVideoSourcesMap([{ source: 'c-v0', owner: 'c', ssrc: 3, rtx: 4, videoType: 'camera' }])); // delta: kept
    ch.send(buildRelayedEndpointMessage({ to: '', msgPayload: {} }, 'b'));
    expect(ch.stats().queued).toBe(7);
    const t = new FakeTransport();
    ch.attach(t, { serverHello: true });
    expect(t.sent.map((s) => JSON.parse(s) as unknown)).toEqual([
      { colibriClass: 'ServerHello', version: '0.1.0' },
      { colibriClass: 'DominantSpeakerEndpointChangeEvent', dominantSpeakerEndpoint: 'b', previousSpeakers: [], silence: false },
      { colibriClass: 'VideoSourcesMap', mappedSources: [{ source: 'b-v0', owner: 'b', ssrc: 1, rtx: 2, videoType: 'CAMERA' }] },
      { colibriClass: 'ForwardedSources', forwardedSources: ['b-v0', 'c-v0'] },
      { colibriClass: 'SenderSourceConstraints', sourceName: 'a-v0', maxHeight: 720 },
      { colibriClass: 'SenderSourceConstraints', sourceName: 'a-v1', maxHeight: 360 },
      { colibriClass: 'VideoSourcesMap', mappedSources: [{ source: 'c-v0', owner: 'c', ssrc: 3, rtx: 4, videoType: 'CAMERA' }] },
      { colibriClass: 'EndpointMessage', to: '', from: 'b', msgPayload: {} },
    ]);
    expect(onConnected).toHaveBeenCalledWith({ transport: 'fake', reconnect: false, droppedWhileDisconnected: 0 });
    expect(ch.stats()).toMatchObject({ queued: 0, outboundDropped: { coalesced: 2 } });
  });

  it('bounds the queue, drops the oldest and reports the loss on connect', () => {
    const onConnected = vi.fn();
    const ch = new BridgeChannel({ endpointId: 'a', handlers: { onConnected }, maxQueuedMessages: 3 });
    for (let i = 0; i < 5; i++) ch.send(buildRelayedEndpointMessage({ to: 'a', msgPayload: { i } }, 'b'));
    expect(ch.stats()).toMatchObject({ queued: 3, outboundDropped: { queueOverflow: 2 } });
    const t = new FakeTransport();
    ch.attach(t, { serverHello: false });
    expect(t.sent.map((s) => (JSON.parse(s) as { msgPayload: { i: number } }).msgPayload.i)).toEqual([2, 3, 4]);
    expect(onConnected).toHaveBeenCalledWith({ transport: 'fake', reconnect: false, droppedWhileDisconnected: 2 });
  });

  it('bounds the queue by bytes', () => {
    const ch = new BridgeChannel({ endpointId: 'a', handlers: {}, maxQueuedBytes: 200 });
    for (let i = 0; i < 10; i++) ch.send(buildRelayedEndpointMessage({ to: '', msgPayload: { pad: 'x'.repeat(50) } }, 'b'));
    expect(ch.stats().queued).toBeLessThanOrEqual(2);
  });

  it('replacing the transport closes the old one with "replaced" and ignores its late close', () => {
    const onConnected = vi.fn();
    const onDisconnected = vi.fn();
    const ch = new BridgeChannel({ endpointId: 'a', handlers: { onConnected, onDisconnected } });
    const t1 = new FakeTransport();
    const t2 = new FakeTransport();
    ch.attach(t1, { serverHello: true });
    ch.attach(t2, { serverHello: true });
    expect(t1.closedWith).toEqual(CLOSE_REPLACED);
    ch.detach(t1); // the old socket's close event arrives after the replacement
    expect(onDisconnected).not.toHaveBeenCalled();
    expect(ch.isOpen).toBe(true);
    ch.send(buildForwardedSources([]));
    expect(t2.classes()).toEqual(['ServerHello', 'ForwardedSources']);
    expect(t1.classes()).toEqual(['ServerHello']);
    expect(onConnected).toHaveBeenLastCalledWith({ transport: 'fake', reconnect: true, droppedWhileDisconnected: 0 });
    ch.detach(t2);
    expect(onDisconnected).toHaveBeenCalledTimes(1);
    expect(ch.isOpen).toBe(false);
  });

  it('queues while the attached transport is not open', () => {
    const ch = new BridgeChannel({ endpointId: 'a', handlers: {} });
    const t = new FakeTransport();
    ch.attach(t, { serverHello: false });
    t.open = false;
    ch.send(buildForwardedSources(['x']));
    expect(t.sent).toEqual([]);
    expect(ch.stats().queued).toBe(1);
  });

  it('drops sends under backpressure', () => {
    const ch = new BridgeChannel({ endpointId: 'a', handlers: {}, maxBufferedBytes: 10 });
    const t = new FakeTransport();
    ch.attach(t, { serverHello: false });
    t.buffered = 11;
    expect(ch.send(buildForwardedSources([]))).toBe(false);
    expect(ch.stats().outboundDropped.backpressure).toBe(1);
  });

  it('answers ClientHello with ServerHello', () => {
    const ch = new BridgeChannel({ endpointId: 'a', handlers: {} });
    const t = new FakeTransport();
    ch.attach(t, { serverHello: false });
    ch.onMessage('{"colibriClass":"ClientHello"}');
    expect(t.classes()).toEqual(['ServerHello']);
  });

  it('close() closes the transport, drops the queue and refuses later sends and attaches', () => {
    const ch = new BridgeChannel({ endpointId: 'a', handlers: {} });
    const t = new FakeTransport();
    ch.attach(t, { serverHello: false });
    ch.close();
    ch.close();
    expect(t.closedWith).toEqual({ code: 1001, reason: 'endpoint expired' });
    expect(ch.send(buildForwardedSources([]))).toBe(false);
    const t2 = new FakeTransport();
    expect(ch.attach(t2, { serverHello: true })).toBe(false);
    expect(t2.closedWith?.code).toBe(1001);
    expect(ch.onMessage(rvc)).toBe(false);
    expect(ch.stats().outboundDropped.closed).toBe(1);
  });

  it('broadcast() serializes once and skips the sender', () => {
    const chans = ['a', 'b', 'c'].map((id) => new BridgeChannel({ endpointId: id, handlers: {} }));
    const ts = chans.map((c) => {
      const t = new FakeTransport();
      c.attach(t, { serverHello: false });
      return t;
    });
    const spy = vi.spyOn(JSON, 'stringify');
    const n = broadcast(chans, buildEndpointStats({ jvbRTT: 1 }, 'a'), chans[0]);
    expect(spy).toHaveBeenCalledTimes(1);
    spy.mockRestore();
    expect(n).toBe(2);
    expect(ts.map((t) => t.sent.length)).toEqual([0, 1, 1]);
    expect(ts[1]?.sent[0]).toBe(ts[2]?.sent[0]);
    expect(broadcast(chans, serializeMessage(buildForwardedSources([])))).toBe(3);
  });
});
