import { describe, expect, it } from 'vitest';
import { loadFixture } from './jingle/fixtures/load.js';
import { parseJingle } from './jingle/xml.js';
import {
  ConferenceSourceMap,
  type EndpointSourceSet,
  MAX_SSRCS_PER_ENDPOINT,
  type SourceDesc,
  SourceConflictError,
  SourceError,
  type SourceErrorCode,
  type SsrcGroupDesc,
  diffSourceMaps,
  sourceMapToJingle,
  sourceMapToJsonSources,
  sourceSetFromJingle,
  stripSimulcast,
} from './sources.js';

// ---------------------------------------------------------------------------------------------------------------
// Builders

const audio = (ssrc: number, name: string, msid = `${name}-msid`): SourceDesc => ({ ssrc, name, mediaType: 'audio', msid });
const video = (ssrc: number, name: string, msid = `${name}-msid`, videoType?: 'camera' | 'desktop'): SourceDesc => ({
  ssrc,
  name,
  mediaType: 'video',
  msid,
  ...(videoType ? { videoType } : {}),
});
const sim = (...ssrcs: number[]): SsrcGroupDesc => ({ semantics: 'SIM', ssrcs, mediaType: 'video' });
const fid = (...ssrcs: number[]): SsrcGroupDesc => ({ semantics: 'FID', ssrcs, mediaType: 'video' });
const set = (sources: SourceDesc[], groups: SsrcGroupDesc[] = []): EndpointSourceSet => ({ sources, groups });

/** A Chrome camera: 3 simulcast SSRCs + 3 RTX, all named `<ep>-v0` (PROTOCOL §4.6). */
function camera(ep: string, base: number): EndpointSourceSet {
  const name = `${ep}-v0`;
  return set(
    [
      video(base + 1, name),
      video(base + 2, name),
      video(base + 3, name),
      video(base + 11, name),
      video(base + 12, name),
      video(base + 13, name),
    ],
    [sim(base + 1, base + 2, base + 3), fid(base + 1, base + 11), fid(base + 2, base + 12), fid(base + 3, base + 13)],
  );
}

function expectSourceError(fn: () => unknown, code: SourceErrorCode): SourceError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(SourceError);
    expect((err as SourceError).code).toBe(code);
    expect((err as SourceError).condition).toBe('bad-request');
    return err as SourceError;
  }
  throw new Error(`expected SourceError ${code}`);
}

function snapshot(map: ConferenceSourceMap): unknown {
  return [...map.entries()];
}

// ---------------------------------------------------------------------------------------------------------------

describe('ConferenceSourceMap.add()', () => {
  it("accepts the §4.6 session-accept sources (audio + 3 SIM layers with RTX) and returns what it accepted", () => {
    const j = parseJingle(loadFixture('session-accept.xml'));
    const announced = sourceSetFromJingle(j.contents);
    const map = new ConferenceSourceMap();
    const accepted = map.add('5b7e1a44', announced);
    expect(accepted).toEqual(announced);
    expect(map.get('5b7e1a44')?.sources).toHaveLength(7);
    expect(map.ownerOf(1600000002)).toBe('5b7e1a44');
    expect(map.owners()).toEqual(['5b7e1a44']);
  });

  it('ignores empty groups and groups signalled twice (Jicofo), in the request or already stored', () => {
    const map = new ConferenceSourceMap();
    const first = map.add('a', set([video(1, 'a-v0'), video(2, 'a-v0')], [fid(1, 2), fid(1, 2), fid()]));
    expect(first.groups).toEqual([fid(1, 2)]);
    const again = map.add('a', set([audio(3, 'a-a0')], [fid(1, 2)]));
    expect(again.groups).toEqual([]);
    expect(map.get('a')?.groups).toEqual([fid(1, 2)]);
  });

  it('accepts a group whose members were announced earlier (RTX added later)', () => {
    const map = new ConferenceSourceMap();
    map.add('a', set([video(1, 'a-v0')]));
    map.add('a', set([video(2, 'a-v0')], [fid(1, 2)]));
    expect(map.get('a')?.groups).toEqual([fid(1, 2)]);
  });

  it('allows audio and video of one endpoint to share an msid (Jicofo)', () => {
    const map = new ConferenceSourceMap();
    map.add('a', set([audio(1, 'a-a0', 'stream track'), video(2, 'a-v0', 'stream track')]));
    expect(map.get('a')?.sources).toHaveLength(2);
  });

  it('normalises videoType (desktop_high_fps → desktop) and drops it from audio', () => {
    const map = new ConferenceSourceMap();
    map.add('a', {
      sources: [
        { ssrc: 1, name: 'a-v1', mediaType: 'video', videoType: 'desktop_high_fps' as 'desktop' },
        { ssrc: 2, name: 'a-a0', mediaType: 'audio', videoType: 'camera' },
      ],
      groups: [],
    });
    expect(map.get('a')?.sources).toEqual([
      { ssrc: 1, name: 'a-v1', mediaType: 'video', videoType: 'desktop' },
      { ssrc: 2, name: 'a-a0', mediaType: 'audio' },
    ]);
  });

  it('accepts SSRC 1 and 2^32-1', () => {
    const map = new ConferenceSourceMap();
    map.add('a', set([audio(1, 'a-a0'), video(0xffff_ffff, 'a-v0')]));
    expect(map.ownerOf(0xffff_ffff)).toBe('a');
  });

  const existing = (): ConferenceSourceMap => {
    const map = new ConferenceSourceMap();
    map.add('a', set([audio(10, 'a-a0', 'a-stream a-audio'), ...camera('a', 100).sources], camera('a', 100).groups));
    return map;
  };

  const rejections: [string, string, EndpointSourceSet, SourceErrorCode][] = [
    ['SSRC 0', 'b', set([audio(0, 'b-a0')]), 'invalid-ssrc'],
    ['negative SSRC', 'b', set([audio(-5, 'b-a0')]), 'invalid-ssrc'],
    ['SSRC 2^32', 'b', set([audio(0x1_0000_0000, 'b-a0')]), 'invalid-ssrc'],
    ['fractional SSRC', 'b', set([audio(1.5, 'b-a0')]), 'invalid-ssrc'],
    ['NaN SSRC', 'b', set([audio(Number.NaN, 'b-a0')]), 'invalid-ssrc'],
    ['source without name', 'b', set([{ ssrc: 5, name: '', mediaType: 'audio' }]), 'invalid-source'],
    ['unknown media type', 'b', set([{ ssrc: 5, name: 'b-x0', mediaType: 'data' as 'audio' }]), 'invalid-source'],
    ['unknown videoType', 'b', set([{ ssrc: 5, name: 'b-v0', mediaType: 'video', videoType: 'screen' as 'desktop' }]), 'invalid-source'],
    ['SSRC twice in the request', 'b', set([audio(5, 'b-a0'), audio(5, 'b-a0')]), 'ssrc-conflict'],
    ["SSRC of another endpoint", 'b', set([audio(10, 'b-a0')]), 'ssrc-conflict'],
    ['SSRC the endpoint already has', 'a', set([audio(10, 'a-a0', 'a-stream a-audio')]), 'ssrc-conflict'],
    ["source name of another endpoint", 'b', set([audio(5, 'a-a0', 'b-msid')]), 'name-conflict'],
    ["msid of another endpoint", 'b', set([audio(5, 'b-a0', 'a-stream a-audio')]), 'msid-conflict'],
    [
      'more than 20 SSRCs in one request',
      'b',
      set(Array.from({ length: MAX_SSRCS_PER_ENDPOINT + 1 }, (_, i) => audio(1000 + i, `b-a${i}`))),
      'ssrc-limit',
    ],
    [
      'more than 20 SSRCs in total (existing 7 + 14)',
      'a',
      set(Array.from({ length: 14 }, (_, i) => audio(1000 + i, `a-a${i + 1}`))),
      'ssrc-limit',
    ],
    [
      'more than 20 groups',
      'b',
      set(
        Array.from({ length: 20 }, (_, i) => video(2000 + i, 'b-v0', 'b-m')),
        [...Array.from({ length: 20 }, (_, i) => fid(2000 + i, 2000 + ((i + 1) % 20))), sim(2000, 2001, 2002)],
      ),
      'group-limit',
    ],
    ['group member that is not a source', 'b', set([video(5, 'b-v0')], [fid(5, 6)]), 'group-unknown-source'],
    ["group member owned by another endpoint", 'b', set([video(5, 'b-v0')], [fid(5, 101)]), 'group-unknown-source'],
    ['FID with 3 SSRCs', 'b', set([video(5, 'b-v0'), video(6, 'b-v0'), video(7, 'b-v0')], [fid(5, 6, 7)]), 'invalid-group'],
    ['FID with 1 SSRC', 'b', set([video(5, 'b-v0')], [fid(5)]), 'invalid-group'],
    [
      'unknown semantics',
      'b',
      set([video(5, 'b-v0'), video(6, 'b-v0')], [{ semantics: 'FEC-FR' as 'FID', ssrcs: [5, 6], mediaType: 'video' }]),
      'invalid-group',
    ],
    ['SSRC repeated in a group', 'b', set([video(5, 'b-v0')], [sim(5, 5)]), 'invalid-group'],
    [
      'group mixing audio and video',
      'b',
      set([video(5, 'b-v0', 'm'), audio(6, 'b-v0', 'm')], [fid(5, 6)]),
      'invalid-group',
    ],
    [
      'grouped source without msid',
      'b',
      set([{ ssrc: 5, name: 'b-v0', mediaType: 'video' }, video(6, 'b-v0')], [fid(5, 6)]),
      'group-mismatch',
    ],
    ['msid differs within a group', 'b', set([video(5, 'b-v0', 'm1'), video(6, 'b-v0', 'm2')], [fid(5, 6)]), 'group-mismatch'],
    ['name differs within a group', 'b', set([video(5, 'b-v0', 'm'), video(6, 'b-v1', 'm')], [fid(5, 6)]), 'group-mismatch'],
    ['two ungrouped sources with one name', 'b', set([video(5, 'b-v0', 'm1'), video(6, 'b-v0', 'm2')]), 'name-conflict'],
    ['one name for audio and video', 'b', set([audio(5, 'b-x0', 'm1'), video(6, 'b-x0', 'm2')]), 'name-conflict'],
    ['new ungrouped source reusing an existing name', 'a', set([video(7, 'a-v0', 'x')]), 'name-conflict'],
    ['two video sources with one msid', 'b', set([video(5, 'b-v0', 'm'), video(6, 'b-v1', 'm')]), 'msid-conflict'],
    [
      'second simulcast source with the same msid',
      'b',
      set(
        [video(5, 'b-v0', 'm'), video(6, 'b-v0', 'm'), video(7, 'b-v1', 'm'), video(8, 'b-v1', 'm')],
        [sim(5, 6), sim(7, 8)],
      ),
      'msid-conflict',
    ],
  ];

  it.each(rejections.map(([what, owner, request, code]) => [what, code, owner, request] as const))(
    'rejects %s with %s and changes nothing',
    (_what, code, owner, request) => {
    const map = existing();
    const before = snapshot(map);
    expectSourceError(() => map.add(owner, request), code);
    expect(snapshot(map)).toEqual(before);
    expect(map.ownerOf(5)).toBeUndefined();
  },
  );

  it('reports the current owner in a SourceConflictError', () => {
    const err = expectSourceError(() => existing().add('b', set([audio(10, 'b-a0')])), 'ssrc-conflict');
    expect(err).toBeInstanceOf(SourceConflictError);
    expect((err as SourceConflictError).owner).toBe('a');
    expect(err.ssrc).toBe(10);
    const nameErr = expectSourceError(() => existing().add('b', set([audio(5, 'a-v0')])), 'name-conflict');
    expect((nameErr as SourceConflictError).owner).toBe('a');
  });

  it('honours configured limits', () => {
    const map = new ConferenceSourceMap({ maxSsrcsPerEndpoint: 2, maxGroupsPerEndpoint: 0 });
    map.add('a', set([video(1, 'a-v0'), video(2, 'a-v1')]));
    expectSourceError(() => map.add('a', set([audio(3, 'a-a0')])), 'ssrc-limit');
    const m2 = new ConferenceSourceMap({ maxGroupsPerEndpoint: 0 });
    expectSourceError(() => m2.add('a', set([video(1, 'a-v0'), video(2, 'a-v0')], [fid(1, 2)])), 'group-limit');
  });

  it('toStanzaError() is a bad-request with the message', () => {
    const err = expectSourceError(() => new ConferenceSourceMap().add('a', set([audio(0, 'a-a0')])), 'invalid-ssrc');
    const se = err.toStanzaError();
    expect(se.condition).toBe('bad-request');
    expect(se.text).toContain('invalid SSRC 0');
  });
});

describe('ConferenceSourceMap.remove()', () => {
  const build = (): ConferenceSourceMap => {
    const map = new ConferenceSourceMap();
    map.add('a', set([audio(10, 'a-a0'), ...camera('a', 100).sources], camera('a', 100).groups));
    map.add('a', set([video(200, 'a-v1', 'desk', 'desktop'), video(201, 'a-v1', 'desk', 'desktop')], [fid(200, 201)]));
    map.add('b', set([audio(20, 'b-a0')]));
    return map;
  };

  it('removes own sources matched by SSRC only, with the groups that contained them', () => {
    const map = build();
    const removed = map.remove('a', set([{ ssrc: 200, name: 'whatever', mediaType: 'video' }, video(201, 'x')]));
    expect(removed).toEqual(set([video(200, 'a-v1', 'desk', 'desktop'), video(201, 'a-v1', 'desk', 'desktop')], [fid(200, 201)]));
    expect(map.ownerOf(200)).toBeUndefined();
    expect(map.get('a')?.groups).toEqual(camera('a', 100).groups);
  });

  it('removes a whole simulcast source given its SSRCs only: SIM and FID groups go with them', () => {
    const map = build();
    const removed = map.remove('a', set(camera('a', 100).sources));
    expect(removed).toEqual(camera('a', 100));
    expect(map.get('a')).toEqual(set([audio(10, 'a-a0'), video(200, 'a-v1', 'desk', 'desktop'), video(201, 'a-v1', 'desk', 'desktop')], [fid(200, 201)]));
  });

  it('accepts listed groups that exist, and an empty request as a no-op', () => {
    const map = build();
    expect(map.remove('a', set([video(200, 'a-v1'), video(201, 'a-v1')], [fid(200, 201)])).groups).toEqual([fid(200, 201)]);
    expect(map.remove('a', set([]))).toEqual(set([]));
    expect(map.remove('nobody', set([]))).toEqual(set([]));
  });

  it('frees names and msids: the endpoint can announce the source again with new SSRCs', () => {
    const map = build();
    map.remove('a', set([video(200, ''), video(201, '')]));
    map.add('a', set([video(300, 'a-v1', 'desk', 'desktop'), video(301, 'a-v1', 'desk', 'desktop')], [fid(300, 301)]));
    expect(map.ownerOf(300)).toBe('a');
  });

  it('drops the owner when its last source goes', () => {
    const map = build();
    map.remove('b', set([audio(20, 'b-a0')]));
    expect(map.has('b')).toBe(false);
    expect(map.owners()).toEqual(['a']);
  });

  const rejections: [string, string, EndpointSourceSet, SourceErrorCode][] = [
    ['an SSRC of another endpoint', 'b', set([audio(10, 'a-a0')]), 'not-owner'],
    ['an unknown SSRC', 'a', set([audio(999, 'a-a9')]), 'unknown-source'],
    ['anything from an endpoint without sources', 'c', set([audio(999, 'c-a0')]), 'unknown-source'],
    ['an SSRC of another endpoint, from an endpoint without sources', 'c', set([audio(20, 'b-a0')]), 'not-owner'],
    ['an unknown group', 'a', set([], [fid(101, 112)]), 'unknown-group'],
    ['a group of another endpoint', 'b', set([], [fid(200, 201)]), 'unknown-group'],
    // As in Jicofo, the remainder is validated: leftovers of a source would be two sources under one name/msid.
    ['one simulcast layer only', 'a', set([video(102, 'a-v0')]), 'name-conflict'],
    ['only the FID group of a source', 'a', set([], [fid(200, 201)]), 'name-conflict'],
  ];

  it.each(rejections.map(([what, owner, request, code]) => [what, code, owner, request] as const))(
    'rejects %s with %s and changes nothing',
    (_what, code, owner, request) => {
      const map = build();
      const before = snapshot(map);
      expectSourceError(() => map.remove(owner, request), code);
      expect(snapshot(map)).toEqual(before);
    },
  );
});

describe('ConferenceSourceMap.removeEndpoint()', () => {
  it('returns what the endpoint had and frees its SSRCs, names and msids for others', () => {
    const map = new ConferenceSourceMap();
    map.add('a', camera('a', 100));
    map.add('b', set([audio(20, 'b-a0')]));
    expect(map.removeEndpoint('a')).toEqual(camera('a', 100));
    expect(map.has('a')).toBe(false);
    expect(map.ownerOf(101)).toBeUndefined();
    map.add('c', set([video(101, 'a-v0', 'a-v0-msid')]));
    expect(map.ownerOf(101)).toBe('c');
    expect(map.removeEndpoint('nobody')).toBeUndefined();
    expect(map.size).toBe(2);
  });
});

describe('stripSimulcast() (receiver view, PROTOCOL §4.4.2)', () => {
  const cases: [string, EndpointSourceSet, EndpointSourceSet][] = [
    [
      'SIM + 3 FID → first layer + its RTX, one FID',
      camera('a', 100),
      set([video(101, 'a-v0'), video(111, 'a-v0')], [fid(101, 111)]),
    ],
    ['SIM without RTX → first layer only', set([video(1, 'x'), video(2, 'x'), video(3, 'x')], [sim(1, 2, 3)]), set([video(1, 'x')])],
    [
      'the first SSRC of the SIM group is kept, not the smallest',
      set([video(9, 'x'), video(3, 'x'), video(19, 'x'), video(13, 'x')], [sim(9, 3), fid(9, 19), fid(3, 13)]),
      set([video(9, 'x'), video(19, 'x')], [fid(9, 19)]),
    ],
    [
      'FID without SIM (screen share) is unchanged',
      set([video(1, 'x', 'm', 'desktop'), video(2, 'x', 'm', 'desktop')], [fid(1, 2)]),
      set([video(1, 'x', 'm', 'desktop'), video(2, 'x', 'm', 'desktop')], [fid(1, 2)]),
    ],
    ['audio is unchanged', set([audio(1, 'a')]), set([audio(1, 'a')])],
    [
      'camera with simulcast and a desktop source together',
      set(
        [...camera('a', 100).sources, video(200, 'a-v1', 'd', 'desktop'), video(201, 'a-v1', 'd', 'desktop'), audio(5, 'a-a0')],
        [...camera('a', 100).groups, fid(200, 201)],
      ),
      set(
        [video(101, 'a-v0'), video(111, 'a-v0'), video(200, 'a-v1', 'd', 'desktop'), video(201, 'a-v1', 'd', 'desktop'), audio(5, 'a-a0')],
        [fid(101, 111), fid(200, 201)],
      ),
    ],
    ['empty stays empty', set([]), set([])],
  ];

  it.each(cases.map(([what, input, expected]) => ({ what, input, expected })))('$what', ({ input, expected }) => {
    const out = stripSimulcast(input);
    expect(out).toEqual(expected);
    expect(out.groups.some((g) => g.semantics === 'SIM')).toBe(false);
    // Idempotent.
    expect(stripSimulcast(out)).toEqual(out);
  });

  it('does not modify its input', () => {
    const input = camera('a', 100);
    stripSimulcast(input);
    expect(input).toEqual(camera('a', 100));
  });

  it('ConferenceSourceMap.stripSimulcast() strips every owner and can exclude the receiver', () => {
    const map = new ConferenceSourceMap();
    map.add('a', camera('a', 100));
    map.add('b', camera('b', 500));
    const view = map.stripSimulcast({ exclude: ['b'] });
    expect([...view.keys()]).toEqual(['a']);
    expect(view.get('a')).toEqual(stripSimulcast(camera('a', 100)));
    // The map itself keeps the full sets (the bridge needs all layers).
    expect(map.get('a')).toEqual(camera('a', 100));
  });
});

describe('Jingle conversions', () => {
  it('sourceSetFromJingle() reads client contents, ignores owners, takes media from the description', () => {
    const j = parseJingle(loadFixture('source-add-from-client.xml'));
    expect(sourceSetFromJingle(j.contents)).toEqual(
      set(
        [
          video(1800000001, '5b7e1a44-v1', 'a9f1c3e0-video-2-1 7d1e…-1', 'desktop'),
          video(1900000001, '5b7e1a44-v1', 'a9f1c3e0-video-2-1 7d1e…-1', 'desktop'),
        ],
        [fid(1800000001, 1900000001)],
      ),
    );
  });

  it('sourceSetFromJingle() rejects nameless sources, sources in a data description and unknown semantics', () => {
    const d = (extra: object) => [
      {
        name: 'video' as const,
        description: {
          media: 'video' as const,
          payloadTypes: [],
          rtcpFbs: [],
          rtpHdrExts: [],
          extmapAllowMixed: false,
          rtcpMux: false,
          sources: [],
          ssrcGroups: [],
          ...extra,
        },
      },
    ];
    expectSourceError(() => sourceSetFromJingle(d({ sources: [{ ssrc: 1, parameters: [] }] })), 'invalid-source');
    expectSourceError(
      () => sourceSetFromJingle(d({ media: 'application', sources: [{ ssrc: 1, name: 'x', parameters: [] }] })),
      'invalid-source',
    );
    expectSourceError(() => sourceSetFromJingle(d({ ssrcGroups: [{ semantics: 'FEC', ssrcs: [1] }] })), 'invalid-group');
    expectSourceError(
      () => sourceSetFromJingle(d({ sources: [{ ssrc: 1, name: 'x', videoType: 'tv', parameters: [] }] })),
      'invalid-source',
    );
  });

  it('toJingle() writes owner, name, videoType, msid; strips simulcast unless told not to; excludes owners', () => {
    const map = new ConferenceSourceMap();
    map.add('a', set([audio(10, 'a-a0'), ...camera('a', 100).sources], camera('a', 100).groups));
    map.add('b', set([audio(20, 'b-a0')]));
    const contents = map.toJingle({ exclude: ['b'] });
    expect(contents.map((c) => [c.name, c.creator, c.description?.media])).toEqual([
      ['audio', undefined, 'audio'],
      ['video', undefined, 'video'],
    ]);
    expect(contents[0]?.description?.sources).toEqual([
      { ssrc: 10, name: 'a-a0', owner: 'a', msid: 'a-a0-msid', parameters: [] },
    ]);
    expect(contents[1]?.description?.sources).toEqual([
      { ssrc: 101, name: 'a-v0', owner: 'a', msid: 'a-v0-msid', parameters: [] },
      { ssrc: 111, name: 'a-v0', owner: 'a', msid: 'a-v0-msid', parameters: [] },
    ]);
    expect(contents[1]?.description?.ssrcGroups).toEqual([{ semantics: 'FID', ssrcs: [101, 111] }]);
    const full = map.toJingle({ stripSimulcast: false });
    expect(full[1]?.description?.ssrcGroups.map((g) => g.semantics)).toEqual(['SIM', 'FID', 'FID', 'FID']);
    expect(full[0]?.description?.sources.map((s) => s.owner)).toEqual(['a', 'b']);
  });

  it('fromJingle() groups the §4.5 offer sources by ssrc-info owner; toJingle() → fromJingle() round-trips', () => {
    const j = parseJingle(loadFixture('session-initiate.xml'));
    const map = ConferenceSourceMap.fromJingle(j.contents);
    expect(map.owners()).toEqual(['jvb', '3f2a9c1e', '9c1d0e2f']);
    expect(map.get('3f2a9c1e')?.groups).toEqual([fid(2005163093, 1787655310)]);
    expect(map.get('3f2a9c1e')?.sources.map((s) => [s.ssrc, s.mediaType, s.videoType])).toEqual([
      [1130921544, 'audio', undefined],
      [2005163093, 'video', 'camera'],
      [1787655310, 'video', 'camera'],
    ]);
    const again = ConferenceSourceMap.fromJingle(map.toJingle({ stripSimulcast: false }));
    expect([...again.entries()]).toEqual([...map.entries()]);
  });

  it('fromJingle() needs an owner for every source (or a default)', () => {
    const j = parseJingle(loadFixture('source-add-from-client.xml'));
    expectSourceError(() => ConferenceSourceMap.fromJingle(j.contents), 'invalid-source');
    expect(ConferenceSourceMap.fromJingle(j.contents, '5b7e1a44').owners()).toEqual(['5b7e1a44']);
  });

  it('sourceMapToJingle() leaves out empty media', () => {
    expect(sourceMapToJingle(new Map([['a', set([audio(1, 'a-a0')])]])).map((c) => c.name)).toEqual(['audio']);
    expect(sourceMapToJingle(new Map())).toEqual([]);
  });

  it('sourceMapToJsonSources() writes the compact form (desktop as v=d, groups per media)', () => {
    const json = sourceMapToJsonSources(
      new Map([['a', set([audio(1, 'a-a0'), video(2, 'a-v1', 'm', 'desktop'), video(3, 'a-v1', 'm', 'desktop')], [fid(2, 3)])]]),
    );
    expect(json.get('a')).toEqual({
      video: [
        { ssrc: 2, name: 'a-v1', msid: 'm', desktop: true },
        { ssrc: 3, name: 'a-v1', msid: 'm', desktop: true },
      ],
      videoGroups: [{ semantics: 'FID', ssrcs: [2, 3] }],
      audio: [{ ssrc: 1, name: 'a-a0', msid: 'a-a0-msid' }],
      audioGroups: [],
    });
  });
});

describe('diff', () => {
  it('reports added and removed sources and groups per owner', () => {
    const before = new ConferenceSourceMap();
    before.add('a', set([audio(1, 'a-a0')]));
    before.add('b', set([audio(2, 'b-a0')]));
    const after = new ConferenceSourceMap();
    after.add('a', set([audio(1, 'a-a0'), video(3, 'a-v0'), video(4, 'a-v0')], [fid(3, 4)]));
    after.add('c', set([audio(5, 'c-a0')]));
    const d = after.diff(before);
    expect([...d.added]).toEqual([
      ['a', set([video(3, 'a-v0'), video(4, 'a-v0')], [fid(3, 4)])],
      ['c', set([audio(5, 'c-a0')])],
    ]);
    expect([...d.removed]).toEqual([['b', set([audio(2, 'b-a0')])]]);
    expect(diffSourceMaps(after.toMap(), after.toMap())).toEqual({ added: new Map(), removed: new Map() });
  });

  it('treats a changed attribute of the same SSRC as removed + added', () => {
    const prev = new Map([['a', set([video(1, 'a-v0', 'm', 'camera')])]]);
    const next = new Map([['a', set([video(1, 'a-v0', 'm', 'desktop')])]]);
    const d = diffSourceMaps(prev, next);
    expect(d.added.get('a')?.sources[0]?.videoType).toBe('desktop');
    expect(d.removed.get('a')?.sources[0]?.videoType).toBe('camera');
  });
});
