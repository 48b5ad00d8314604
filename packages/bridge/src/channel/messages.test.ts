import { describe, expect, it } from 'vitest';
import { applyReceiverVideoConstraints, createAllocationSettings, type ReceiverVideoConstraintsInput } from '../cc/constraints.js';
import {
  SerializedMessage,
  buildAudioSourcesMap,
  buildConnectionStats,
  buildDominantSpeakerChange,
  buildEndpointConnectivityStatus,
  buildEndpointStats,
  buildForwardedSources,
  buildLastNEndpointsChange,
  buildRelayedEndpointMessage,
  buildSenderSourceConstraints,
  buildServerHello,
  buildVideoSourcesMap,
  coalesceKeyOf,
  parseInboundMessage,
  serializeMessage,
  type InboundMessage,
} from './messages.js';

function ok(text: string): InboundMessage {
  const r = parseInboundMessage(text);
  if (!r.ok) throw new Error(`expected ok, got ${r.reason}`);
  return r.message;
}

function reason(data: string | Buffer, opts?: { maxBytes?: number; isBinary?: boolean }): string | undefined {
  const r = parseInboundMessage(data, opts);
  return r.ok ? undefined : r.reason;
}

describe('parseInboundMessage()', () => {
  it('parses the PROTOCOL §6.2 ReceiverVideoConstraints example', () => {
    const m = ok(
      '{"colibriClass":"ReceiverVideoConstraints","lastN":-1,"onStageSources":["3f2a9c1e-v0"],"defaultConstraints":{"maxHeight":180},"constraints":{"3f2a9c1e-v0":{"maxHeight":720}},"assumedBandwidthBps":-1}',
    );
    expect(m).toEqual({
      colibriClass: 'ReceiverVideoConstraints',
      lastN: -1,
      onStageSources: ['3f2a9c1e-v0'],
      defaultConstraints: { maxHeight: 180 },
      constraints: { '3f2a9c1e-v0': { maxHeight: 720 } },
      assumedBandwidthBps: -1,
    });
  });

  it('keeps absent ReceiverVideoConstraints fields absent (partial update)', () => {
    const m = ok('{"colibriClass":"ReceiverVideoConstraints","assumedBandwidthBps":-1,"lastN":-1}');
    expect(m).toEqual({ colibriClass: 'ReceiverVideoConstraints', assumedBandwidthBps: -1, lastN: -1 });
    expect('constraints' in m).toBe(false);
    expect('defaultConstraints' in m).toBe(false);
  });

  it('treats null and wrongly typed ReceiverVideoConstraints fields as absent instead of dropping the message', () => {
    const m = ok(
      '{"colibriClass":"ReceiverVideoConstraints","lastN":"5","selectedSources":null,"onStageSources":["a",7,"b"],"defaultConstraints":{"maxHeight":"x","maxFrameRate":15},"constraints":{"a":{"maxHeight":360},"b":5,"c":null},"assumedBandwidthBps":null}',
    );
    expect(m).toEqual({
      colibriClass: 'ReceiverVideoConstraints',
      onStageSources: ['a', 'b'],
      defaultConstraints: { maxFrameRate: 15 },
      constraints: { a: { maxHeight: 360 } },
    });
  });

  it('produces input that cc/constraints.ts merges with partial-update semantics', () => {
    const first = ok('{"colibriClass":"ReceiverVideoConstraints","lastN":3,"constraints":{"a-v0":{"maxHeight":720}}}');
    const second = ok('{"colibriClass":"ReceiverVideoConstraints","defaultConstraints":{"maxHeight":360}}');
    if (first.colibriClass !== 'ReceiverVideoConstraints' || second.colibriClass !== 'ReceiverVideoConstraints') throw new Error();
    const { colibriClass: _a, ...firstFields } = first;
    const { colibriClass: _b, ...secondFields } = second;
    const input: ReceiverVideoConstraintsInput = firstFields; // the parsed type is assignable
    let s = applyReceiverVideoConstraints(createAllocationSettings(), input);
    expect(s.defaultConstraints.maxHeight).toBe(180); // first message without defaultConstraints (JVB)
    s = applyReceiverVideoConstraints(s, secondFields);
    expect(s.lastN).toBe(3);
    expect(s.constraints.get('a-v0')).toEqual({ maxHeight: 720 });
    expect(s.defaultConstraints.maxHeight).toBe(360);
  });

  it('parses LastNChangedEvent and rejects one without a numeric lastN', () => {
    expect(ok('{"colibriClass":"LastNChangedEvent","lastN":5}')).toEqual({ colibriClass: 'LastNChangedEvent', lastN: 5 });
    expect(reason('{"colibriClass":"LastNChangedEvent"}')).toBe('invalidFields');
    expect(reason('{"colibriClass":"LastNChangedEvent","lastN":"5"}')).toBe('invalidFields');
  });

  it('parses SourceVideoTypeMessage case-insensitively, disabled → none', () => {
    expect(ok('{"colibriClass":"SourceVideoTypeMessage","sourceName":"5b7e1a44-v1","videoType":"desktop"}')).toEqual({
      colibriClass: 'SourceVideoTypeMessage',
      sourceName: '5b7e1a44-v1',
      videoType: 'desktop',
    });
    expect(ok('{"colibriClass":"SourceVideoTypeMessage","sourceName":"x-v0","videoType":"DESKTOP_HIGH_FPS"}')).toMatchObject({
      videoType: 'desktop_high_fps',
    });
    expect(ok('{"colibriClass":"SourceVideoTypeMessage","sourceName":"x-v0","videoType":"DISABLED"}')).toMatchObject({ videoType: 'none' });
    expect(reason('{"colibriClass":"SourceVideoTypeMessage","sourceName":"x-v0","videoType":"hologram"}')).toBe('invalidFields');
    expect(reason('{"colibriClass":"SourceVideoTypeMessage","videoType":"camera"}')).toBe('invalidFields');
  });

  it('parses the legacy VideoTypeMessage', () => {
    expect(ok('{"colibriClass":"VideoTypeMessage","videoType":"camera"}')).toEqual({ colibriClass: 'VideoTypeMessage', videoType: 'camera' });
  });

  it('parses EndpointMessage keeping msgPayload and extra fields, blank to = broadcast', () => {
    const m = ok('{"colibriClass":"EndpointMessage","to":"","msgPayload":{"name":"reaction","reaction":"clap"},"extra":1}');
    expect(m).toEqual({ colibriClass: 'EndpointMessage', message: { to: '', msgPayload: { name: 'reaction', reaction: 'clap' }, extra: 1 } });
    expect(ok('{"colibriClass":"EndpointMessage","to":"  ","msgPayload":{}}')).toMatchObject({ message: { to: '' } });
    expect(ok('{"colibriClass":"EndpointMessage","to":"abcd1234","msgPayload":{}}')).toMatchObject({ message: { to: 'abcd1234' } });
    expect(reason('{"colibriClass":"EndpointMessage","msgPayload":{}}')).toBe('invalidFields');
    expect(reason('{"colibriClass":"EndpointMessage","to":5,"msgPayload":{}}')).toBe('invalidFields');
  });

  it('parses EndpointStats as a free-form object without colibriClass and from', () => {
    expect(ok('{"colibriClass":"EndpointStats","from":"spoofed","bitrate":{"upload":100},"jvbRTT":12}')).toEqual({
      colibriClass: 'EndpointStats',
      stats: { bitrate: { upload: 100 }, jvbRTT: 12 },
    });
  });

  it('normalizes every ReceiverAudioSubscription form', () => {
    const sub = (t: string): unknown => (ok(t) as { subscription: unknown }).subscription;
    expect(sub('{"colibriClass":"ReceiverAudioSubscription","all":true,"exclude":["a"],"include":[]}')).toEqual({ all: true, include: [], exclude: ['a'] });
    expect(sub('{"colibriClass":"ReceiverAudioSubscription","mode":"None"}')).toEqual({ all: false, include: [], exclude: [] });
    expect(sub('{"colibriClass":"ReceiverAudioSubscription","mode":"Include","list":["x"]}')).toEqual({ all: false, include: ['x'], exclude: [] });
    expect(sub('{"colibriClass":"ReceiverAudioSubscription","mode":"Exclude","list":["x"]}')).toEqual({ all: true, include: [], exclude: ['x'] });
    expect(sub('{"colibriClass":"ReceiverAudioSubscription","mode":"All"}')).toEqual({ all: true, include: [], exclude: [] });
    expect(reason('{"colibriClass":"ReceiverAudioSubscription","mode":"Some"}')).toBe('invalidFields');
  });

  it('parses ClientHello', () => {
    expect(ok('{"colibriClass":"ClientHello"}')).toEqual({ colibriClass: 'ClientHello' });
  });

  it('drops garbage with a reason, never throws', () => {
    expect(reason('not json')).toBe('invalidJson');
    expect(reason(Buffer.from([0xff, 0xfe, 0x7b]))).toBe('invalidJson');
    expect(reason('[1,2]')).toBe('notAMessage');
    expect(reason('null')).toBe('notAMessage');
    expect(reason('"x"')).toBe('notAMessage');
    expect(reason('{"colibriClass":5}')).toBe('notAMessage');
    expect(reason('{"to":""}')).toBe('notAMessage');
    expect(reason('{"colibriClass":"SelectedEndpointsChangedEvent","selectedEndpoints":[]}')).toBe('unknownClass');
    expect(reason('{"colibriClass":"ServerHello"}')).toBe('unknownClass'); // a bridge → client class
    expect(reason('{"colibriClass":"EndpointMessage","to":""}', { isBinary: true })).toBe('binary');
  });

  it('drops a message larger than maxBytes (UTF-8 bytes, not characters)', () => {
    const body = `{"colibriClass":"EndpointMessage","to":"","msgPayload":{"t":"${'é'.repeat(40)}"}}`;
    expect(Buffer.byteLength(body)).toBeGreaterThan(120);
    expect(body.length).toBeLessThan(120);
    expect(reason(body, { maxBytes: 120 })).toBe('tooLarge');
    expect(reason(Buffer.from(body), { maxBytes: 120 })).toBe('tooLarge');
    expect(reason(body, { maxBytes: 1000 })).toBeUndefined();
    expect(reason(`{"colibriClass":"x","pad":"${'a'.repeat(70 * 1024)}"}`)).toBe('tooLarge'); // default 64 KiB
    // Found by the fuzzer: 4000 levels parse fine but overflow the stack when relayed.
    expect(reason(`{"colibriClass":"EndpointMessage","to":"","msgPayload":${'['.repeat(4000)}${']'.repeat(4000)}}`)).toBe('tooDeep');
    expect(reason(`{"colibriClass":"EndpointMessage","to":"","msgPayload":{"s":"${'['.repeat(100)}"}}`)).not.toBe('tooDeep');
  });

  it('does not let __proto__ keys pollute prototypes', () => {
    const m = ok('{"colibriClass":"EndpointMessage","to":"","msgPayload":{},"__proto__":{"polluted":true}}');
    if (m.colibriClass !== 'EndpointMessage') throw new Error('expected an EndpointMessage');
    const relayed = buildRelayedEndpointMessage(m.message, 'a');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(Object.getPrototypeOf(relayed)).toBe(Object.prototype);
    ok('{"colibriClass":"ReceiverVideoConstraints","constraints":{"__proto__":{"maxHeight":1}}}');
    expect(({} as Record<string, unknown>).maxHeight).toBeUndefined();
  });
});

describe('outbound builders', () => {
  it('ServerHello with and without version', () => {
    expect(serializeMessage(buildServerHello()).text).toBe('{"colibriClass":"ServerHello"}');
    expect(serializeMessage(buildServerHello('1.0.0')).text).toBe('{"colibriClass":"ServerHello","version":"1.0.0"}');
  });

  it('relayed EndpointMessage overwrites from and keeps everything else', () => {
    const msg = buildRelayedEndpointMessage({ to: '', from: 'spoofed', msgPayload: { name: 'reaction' }, extra: [1] }, '5b7e1a44');
    expect(msg).toEqual({ colibriClass: 'EndpointMessage', to: '', from: '5b7e1a44', msgPayload: { name: 'reaction' }, extra: [1] });
    expect(JSON.parse(serializeMessage(msg).text)).toEqual(msg);
  });

  it('EndpointStats relayed with from', () => {
    expect(buildEndpointStats({ jvbRTT: 5, from: 'x' }, 'a')).toEqual({ colibriClass: 'EndpointStats', jvbRTT: 5, from: 'a' });
  });

  it('builds the PROTOCOL §6.3 examples exactly', () => {
    expect(JSON.parse(serializeMessage(buildDominantSpeakerChange('3f2a9c1e', ['9c1d0e2f'], false)).text)).toEqual({
      colibriClass: 'DominantSpeakerEndpointChangeEvent',
      dominantSpeakerEndpoint: '3f2a9c1e',
      previousSpeakers: ['9c1d0e2f'],
      silence: false,
    });
    expect(serializeMessage(buildForwardedSources(new Set(['3f2a9c1e-v0', '9c1d0e2f-v0']))).text).toBe(
      '{"colibriClass":"ForwardedSources","forwardedSources":["3f2a9c1e-v0","9c1d0e2f-v0"]}',
    );
    expect(serializeMessage(buildSenderSourceConstraints('5b7e1a44-v0', 720)).text).toBe(
      '{"colibriClass":"SenderSourceConstraints","sourceName":"5b7e1a44-v0","maxHeight":720}',
    );
    expect(buildSenderSourceConstraints('x', Infinity).maxHeight).toBe(-1);
    expect(serializeMessage(buildEndpointConnectivityStatus('9c1d0e2f', false)).text).toBe(
      '{"colibriClass":"EndpointConnectivityStatusChangeEvent","endpoint":"9c1d0e2f","active":"false"}',
    );
    expect(serializeMessage(buildVideoSourcesMap([{ source: '3f2a9c1e-v0', owner: '3f2a9c1e', ssrc: 2839445120, rtx: 1209381723, videoType: 'camera' }])).text).toBe(
      '{"colibriClass":"VideoSourcesMap","mappedSources":[{"source":"3f2a9c1e-v0","owner":"3f2a9c1e","ssrc":2839445120,"rtx":1209381723,"videoType":"CAMERA"}]}',
    );
    expect(serializeMessage(buildAudioSourcesMap([{ source: '3f2a9c1e-a0', owner: '3f2a9c1e', ssrc: 3380071928 }])).text).toBe(
      '{"colibriClass":"AudioSourcesMap","mappedSources":[{"source":"3f2a9c1e-a0","owner":"3f2a9c1e","ssrc":3380071928}]}',
    );
    expect(buildDominantSpeakerChange({ dominantSpeaker: 'a', previousSpeakers: ['b'], silence: true })).toEqual({
      colibriClass: 'DominantSpeakerEndpointChangeEvent',
      dominantSpeakerEndpoint: 'a',
      previousSpeakers: ['b'],
      silence: true,
    });
    expect(buildConnectionStats(1.5e6)).toEqual({ colibriClass: 'ConnectionStats', estimatedDownlinkBandwidth: 1500000 });
    expect(buildLastNEndpointsChange(['a'])).toEqual({ colibriClass: 'LastNEndpointsChangeEvent', lastNEndpoints: ['a'] });
  });

  it('rejects non-uint32 SSRCs in source maps', () => {
    expect(() => buildVideoSourcesMap([{ source: 's', owner: 'o', ssrc: 1, rtx: -1, videoType: 'camera' }])).toThrow(TypeError);
    expect(() => buildAudioSourcesMap([{ source: 's', owner: 'o', ssrc: 2 ** 32 }])).toThrow(TypeError);
  });

  it('gives state messages a coalescing key and deltas none', () => {
    expect(coalesceKeyOf(buildForwardedSources([]))).toBe('ForwardedSources');
    expect(coalesceKeyOf(buildSenderSourceConstraints('a-v0', 180))).toBe('SenderSourceConstraints/a-v0');
    expect(coalesceKeyOf(buildEndpointStats({}, 'a'))).toBe('EndpointStats/a');
    expect(coalesceKeyOf(buildVideoSourcesMap([]))).toBeUndefined();
    expect(coalesceKeyOf(buildRelayedEndpointMessage({ to: '' }, 'a'))).toBeUndefined();
    expect(serializeMessage(buildForwardedSources([]))).toBeInstanceOf(SerializedMessage);
  });
});
