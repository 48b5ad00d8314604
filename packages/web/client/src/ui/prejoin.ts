/**
 * `/<room>` before joining: display name, camera and microphone preview, device choice (remembered in local
 * storage), and "join with microphone / camera off". The same {@link LocalMedia} goes on into the meeting, so the
 * devices are opened once. Focus order: name, camera, microphone, the two options, Join (Enter in the name joins).
 */
import { LocalMedia } from '../conference/local-media.js';
import type { LocalSettings } from '../storage.js';
import { deviceSelectors } from './devices.js';
import { h } from './dom.js';
import { Tile } from './tile.js';

export interface JoinRequest {
  displayName: string;
  media: LocalMedia;
}

/** Shows the pre-join screen; `onJoin` is called once the user presses Join. */
export async function prejoinView(room: string, settings: LocalSettings, onJoin: (req: JoinRequest) => void): Promise<HTMLElement> {
  const opts = settings.joinOptions;
  const devices = settings.devices;
  const { media, error } = await LocalMedia.open({ ...opts, audioDeviceId: devices.audioInput, videoDeviceId: devices.videoInput });
  const preview = new Tile({ id: 'preview', local: true });
  const name = h('input', { id: 'display-name', name: 'name', type: 'text', autocomplete: 'nickname', maxlength: 64, value: settings.displayName });
  const update = (): void => {
    preview.setName(name.value.trim() || 'You');
    preview.setVideoTrack(media.videoTrack);
    preview.setVideoMuted(media.videoMuted);
    preview.setAudioMuted(media.audioMuted);
  };
  name.addEventListener('input', update);
  const micOff = h('input', { id: 'join-mic-off', type: 'checkbox', checked: opts.audioMuted || !media.hasMicrophone, disabled: !media.hasMicrophone });
  micOff.addEventListener('change', () => {
    media.setAudioMuted(micOff.checked);
    update();
  });
  const camOff = h('input', { id: 'join-camera-off', type: 'checkbox', checked: opts.videoMuted || !media.hasCamera, disabled: !media.hasCamera });
  camOff.addEventListener('change', async () => {
    camOff.disabled = true;
    await media.setVideoMuted(camOff.checked);
    camOff.disabled = false;
    update();
  });
  update();

  const join = h('button', { type: 'submit', class: 'primary' }, 'Join meeting');
  const form = h(
    'form',
    { class: 'card prejoin-form', onsubmit: (ev) => {
      ev.preventDefault();
      join.disabled = true;
      const displayName = name.value.trim();
      settings.displayName = displayName;
      if (media.hasMicrophone) settings.joinOptions = { audioMuted: micOff.checked, videoMuted: camOff.checked };
      onJoin({ displayName, media });
    } },
    h('label', { for: 'display-name' }, 'Your name'),
    name,
    deviceSelectors({
      idPrefix: 'prejoin',
      media,
      settings,
      onSwitch: async (kind, deviceId) => {
        await media.switchDevice(kind, deviceId);
        update();
      },
    }).el,
    h('div', { class: 'check' }, micOff, h('label', { for: 'join-mic-off' }, 'Join with microphone off')),
    h('div', { class: 'check' }, camOff, h('label', { for: 'join-camera-off' }, 'Join with camera off')),
    error !== undefined ? h('p', { class: 'error', role: 'alert' }, error) : undefined,
    join,
  );
  return h(
    'div',
    { class: 'page prejoin' },
    h('h1', null, 'Join ', h('span', { class: 'room' }, room)),
    h('div', { class: 'prejoin-grid' }, h('div', { class: 'preview' }, preview.el), form),
  );
}
