import { describe, expect, it } from 'vitest';
import { BadRequestError } from './errors.js';
import { parseMediaSources, parseVideoType, sameLayout, type VideoSource } from './source.js';

describe('parseMediaSources()', () => {
  it('builds encodings from the SIM group (low → high) and RTX from FID groups', () => {
    const [audio, video] = parseMediaSources('ep', [
      { type: 'audio', id: 'ep-a0', sources: [{ ssrc: 11 }] },
      {
        type: 'video',
        id: 'ep-v0',
        sources: [1, 2, 3, 101, 102, 103].map((ssrc) => ({ ssrc, ...(ssrc === 1 ? { videoType: 'desktop' } : {}) })),
        ssrcGroups: [
          { semantics: 'FID', ssrcs: [2, 102] },
          { semantics: 'SIM', ssrcs: [1, 2, 3] },
          { semantics: 'FID', ssrcs: [1, 101] },
          { semantics: 'FID', ssrcs: [3, 103] },
        ],
      },
    ]);
    expect(audio).toMatchObject({ kind: 'audio', name: 'ep-a0', owner: 'ep', ssrc: 11 });
    const v = video as VideoSource;
    expect(v.kind).toBe('video');
    expect(v.encodings).toEqual([
      { index: 0, ssrc: 1, rtxSsrc: 101 },
      { index: 1, ssrc: 2, rtxSsrc: 102 },
      { index: 2, ssrc: 3, rtxSsrc: 103 },
    ]);
    expect(v.primarySsrc).toBe(1);
    expect(v.primaryRtxSsrc).toBe(101);
    expect(v.videoType).toBe('desktop');
    expect(v.layers.encodings.map((e) => [e.ssrc, e.height])).toEqual([
      [1, 180],
      [2, 360],
      [3, 720],
    ]);
  });

  it('without SIM: one encoding, the SSRC that is not an RTX', () => {
    const [v] = parseMediaSources('ep', [
      { type: 'video', id: 'ep-v0', videoType: 'camera', sources: [{ ssrc: 50 }, { ssrc: 5 }], ssrcGroups: [{ semantics: 'FID', ssrcs: [5, 50] }] },
    ]);
    expect((v as VideoSource).encodings).toEqual([{ index: 0, ssrc: 5, rtxSsrc: 50 }]);
  });

  it.each([
    ['no SSRC', [{ type: 'audio', id: 'a', sources: [] }]],
    ['SIM on audio', [{ type: 'audio', id: 'a', sources: [{ ssrc: 1 }], ssrcGroups: [{ semantics: 'SIM', ssrcs: [1] }] }]],
    ['two SIM groups', [{ type: 'video', id: 'v', sources: [{ ssrc: 1 }, { ssrc: 2 }], ssrcGroups: [{ semantics: 'SIM', ssrcs: [1] }, { semantics: 'SIM', ssrcs: [2] }] }]],
    ['RTX in the SIM group', [{ type: 'video', id: 'v', sources: [{ ssrc: 1 }, { ssrc: 2 }], ssrcGroups: [{ semantics: 'SIM', ssrcs: [1, 2] }, { semantics: 'FID', ssrcs: [1, 2] }] }]],
    ['FID of one', [{ type: 'video', id: 'v', sources: [{ ssrc: 1 }], ssrcGroups: [{ semantics: 'FID', ssrcs: [1] }] }]],
    ['only RTX SSRCs', [{ type: 'video', id: 'v', sources: [{ ssrc: 1 }, { ssrc: 2 }], ssrcGroups: [{ semantics: 'FID', ssrcs: [1, 2] }, { semantics: 'FID', ssrcs: [2, 1] }] }]],
    ['duplicate name', [{ type: 'audio', id: 'a', sources: [{ ssrc: 1 }] }, { type: 'audio', id: 'a', sources: [{ ssrc: 2 }] }]],
    ['negative SSRC', [{ type: 'audio', id: 'a', sources: [{ ssrc: -1 }] }]],
    ['bad type', [{ type: 'data', id: 'a', sources: [{ ssrc: 1 }] }]],
  ])('rejects %s with BadRequestError', (_what, descs) => {
    expect(() => parseMediaSources('ep', descs as never)).toThrow(BadRequestError);
  });

  it('ignores unknown group semantics; sameLayout() tells whether an update keeps state', () => {
    const a = parseMediaSources('ep', [{ type: 'video', id: 'v', sources: [{ ssrc: 1 }, { ssrc: 2 }], ssrcGroups: [{ semantics: 'FEC-FR' as 'FID', ssrcs: [1, 2] }] }]);
    expect((a[0] as VideoSource).encodings).toHaveLength(1);
    const b = parseMediaSources('ep', [{ type: 'video', id: 'v', sources: [{ ssrc: 1 }, { ssrc: 2 }] }]);
    const c = parseMediaSources('ep', [{ type: 'video', id: 'v', sources: [{ ssrc: 1 }, { ssrc: 3 }] }]);
    expect(sameLayout(a[0] as VideoSource, b[0] as VideoSource)).toBe(true);
    expect(sameLayout(b[0] as VideoSource, c[0] as VideoSource)).toBe(false);
  });

  it('normalizes video types', () => {
    expect(parseVideoType('DESKTOP_HIGH_FPS')).toBe('desktop_high_fps');
    expect(parseVideoType('disabled')).toBe('none');
    expect(parseVideoType(undefined)).toBe('camera');
  });
});
