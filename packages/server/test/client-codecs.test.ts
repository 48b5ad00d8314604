import { describe, expect, it } from 'vitest';
import { DEFAULT_OFFER_CONFIG, JICOFO_OFFER_CONFIG } from '@jitsi-one/focus';
import { offeredVideoCodecs } from '../src/server.js';

describe('offeredVideoCodecs()', () => {
  it('names the video codecs of the focus offer, in offer order, as /config.js codecPreferenceOrder wants them', () => {
    expect(offeredVideoCodecs()).toEqual(['VP8']);
    expect(offeredVideoCodecs(DEFAULT_OFFER_CONFIG.video)).toEqual(['VP8']);
    expect(offeredVideoCodecs(JICOFO_OFFER_CONFIG.video)).toEqual(['AV1', 'VP8', 'H264', 'VP9']);
    expect(offeredVideoCodecs({ vp9: { pt: 101 } })).toEqual(['VP9']);
  });
});
