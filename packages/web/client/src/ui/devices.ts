/**
 * Camera and microphone choice: two labelled selects filled from `enumerateDevices`, kept current when devices
 * come and go. A choice is remembered in local storage (device settings) and applied through `onSwitch`; if the
 * device cannot be opened, the previous one stays and the reason is shown.
 */
import { LocalMedia } from '../conference/local-media.js';
import type { LocalSettings } from '../storage.js';
import { h } from './dom.js';

type Kind = 'audioinput' | 'videoinput';

/** The camera and microphone selects; `refresh()` re-reads the device list (labels appear once permitted). */
export function deviceSelectors(opts: {
  /** Prefix for element ids (the pre-join screen and the meeting each have a set). */
  idPrefix: string;
  media: LocalMedia;
  settings: LocalSettings;
  onSwitch: (kind: Kind, deviceId: string) => Promise<void>;
}): { el: HTMLElement; refresh: () => Promise<void> } {
  const error = h('p', { class: 'error', role: 'alert' });
  const make = (kind: Kind, label: string): { field: HTMLElement; select: HTMLSelectElement } => {
    const id = `${opts.idPrefix}-${kind === 'videoinput' ? 'camera' : 'microphone'}`;
    const select = h('select', { id, name: id });
    select.addEventListener('change', async () => {
      const deviceId = select.value;
      const before = opts.media.deviceId(kind);
      select.disabled = true;
      error.textContent = '';
      try {
        await opts.onSwitch(kind, deviceId);
        opts.settings.setDevice(kind === 'audioinput' ? 'audioInput' : 'videoInput', deviceId);
      } catch (err) {
        error.textContent = `Could not use that ${kind === 'audioinput' ? 'microphone' : 'camera'}${err instanceof Error && err.message !== '' ? ` (${err.message})` : ''}.`;
        if (before !== undefined) select.value = before;
      }
      select.disabled = false;
    });
    return { field: h('div', { class: 'field' }, h('label', { for: id }, label), select), select };
  };
  const camera = make('videoinput', 'Camera');
  const microphone = make('audioinput', 'Microphone');

  const fill = async (kind: Kind, select: HTMLSelectElement): Promise<void> => {
    const devices = await LocalMedia.devices(kind);
    const current = opts.media.deviceId(kind);
    select.replaceChildren(...devices.map((d) => h('option', { value: d.deviceId }, d.label)));
    if (devices.length === 0) select.append(h('option', { value: '' }, kind === 'videoinput' ? 'No camera found' : 'No microphone found'));
    if (current !== undefined && devices.some((d) => d.deviceId === current)) select.value = current;
    select.disabled = devices.length === 0;
  };
  const refresh = async (): Promise<void> => {
    await Promise.all([fill('videoinput', camera.select), fill('audioinput', microphone.select)]);
  };
  void refresh();
  navigator.mediaDevices?.addEventListener?.('devicechange', () => void refresh());
  return { el: h('div', { class: 'devices' }, camera.field, microphone.field, error), refresh };
}
