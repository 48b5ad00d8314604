import { describe, expect, it } from 'vitest';
import { HeaderExtensionUri } from '../rtp/header-ext.js';
import { defaultMediaInfo, parseMedias } from './medias.js';

describe('parseMedias()', () => {
  it('reads extension ids, VP8/RTX payload types and RTCP feedback from the offer', () => {
    const m = parseMedias([
      {
        type: 'audio',
        payloadTypes: [{ id: 111, name: 'opus', clockrate: 48000, channels: 2 }],
        rtpHdrExts: [
          { id: 1, uri: HeaderExtensionUri.SsrcAudioLevel },
          { id: 5, uri: HeaderExtensionUri.TransportCc },
        ],
      },
      {
        type: 'video',
        payloadTypes: [
          { id: 100, name: 'VP8', clockrate: 90000, rtcpFbs: [{ type: 'ccm', subtype: 'fir' }, { type: 'nack' }, { type: 'transport-cc' }] },
          { id: 96, name: 'rtx', clockrate: 90000, parameters: { apt: '100' } },
        ],
        rtpHdrExts: [
          { id: 10, uri: HeaderExtensionUri.SdesMid },
          { id: 11, uri: HeaderExtensionUri.VideoOrientation },
          { id: 3, uri: HeaderExtensionUri.AbsSendTime },
        ],
      },
    ]);
    expect(m).toMatchObject({
      known: true,
      audioLevelExtId: 1,
      transportCcExtId: 5,
      transportCc: true,
      midExtId: 10,
      videoOrientationExtId: 11,
      absSendTimeExtId: 3,
      pli: false,
      fir: true,
      nack: true,
      audioClockRateHz: 48000,
      videoClockRateHz: 90000,
    });
    expect([...m.vp8PayloadTypes]).toEqual([100]);
    expect(m.rtxByApt.get(100)).toBe(96);
    expect(m.aptByRtx.get(96)).toBe(100);
  });

  it('transport-cc needs the header extension; PLI is assumed when neither PLI nor FIR is offered', () => {
    const m = parseMedias([{ type: 'video', payloadTypes: [{ id: 100, name: 'vp8', clockrate: 90000, rtcpFbs: [{ type: 'transport-cc' }] }], rtpHdrExts: [] }]);
    expect(m.transportCc).toBe(false);
    expect(m.pli).toBe(true);
    expect(defaultMediaInfo()).toMatchObject({ known: false, pli: true, audioLevelExtId: -1 });
  });
});
