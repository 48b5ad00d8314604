/**
 * The meeting: a tile grid that adapts to the number of participants and the window, names on tiles, microphone
 * and camera mute with indicators everyone sees, and leave. Each remote tile's size sets the resolution asked
 * from the bridge (ReceiverVideoConstraints).
 *
 * TODO(#6): stage view (active speaker large, filmstrip), chat, participant list with moderator actions, raise hand,
 * screen share, connection indicator, reconnect banner.
 */
import { Conference, type Participant } from '../conference/conference.js';
import type { LocalMedia } from '../conference/local-media.js';
import { ICONS, h, icon } from './dom.js';
import { gridFor, receiveHeightFor } from './layout.js';
import { Tile } from './tile.js';

export interface MeetingView {
  el: HTMLElement;
  /** Tiles by endpoint id (the local tile under `local`). */
  tiles: ReadonlyMap<string, Tile>;
}

export function meetingView(opts: {
  room: string;
  conference: Conference;
  media: LocalMedia;
  displayName: string;
  onLeave: () => void;
}): MeetingView {
  const { conference, media } = opts;
  const tiles = new Map<string, Tile>();
  const grid = h('section', { class: 'tiles', 'aria-label': 'Participants' });
  const status = h('p', { class: 'status', role: 'status' });

  const local = new Tile({ id: conference.endpointId, local: true });
  local.setName(`${opts.displayName || 'Guest'} (you)`);
  local.el.dataset.local = 'true';
  tiles.set('local', local);
  grid.append(local.el);

  const renderLocal = (): void => {
    local.setVideoTrack(media.videoTrack);
    local.setVideoMuted(media.videoMuted);
    local.setAudioMuted(media.audioMuted);
    micButton.setAttribute('aria-pressed', String(media.audioMuted));
    micButton.replaceChildren(icon(media.audioMuted ? ICONS.micOff : ICONS.mic), h('span', null, media.audioMuted ? 'Unmute' : 'Mute'));
    micButton.setAttribute('aria-label', media.audioMuted ? 'Unmute microphone' : 'Mute microphone');
    micButton.disabled = !media.hasMicrophone;
    camButton.setAttribute('aria-pressed', String(media.videoMuted));
    camButton.replaceChildren(icon(media.videoMuted ? ICONS.cameraOff : ICONS.camera), h('span', null, media.videoMuted ? 'Start video' : 'Stop video'));
    camButton.setAttribute('aria-label', media.videoMuted ? 'Turn camera on' : 'Turn camera off');
  };

  const renderRemote = (p: Participant): void => {
    let tile = tiles.get(p.id);
    if (tile === undefined) {
      tile = new Tile({ id: p.id, local: false });
      tiles.set(p.id, tile);
      grid.append(tile.el);
      relayout();
    }
    tile.setName(p.displayName);
    tile.setAudioMuted(p.audioMuted);
    tile.setVideoMuted(p.videoMuted);
    tile.setVideoTrack(p.tracks.video);
    tile.setAudioTrack(p.tracks.audio);
  };

  const renderStatus = (): void => {
    const n = conference.participants.size + 1;
    const state = conference.mediaState;
    const media = n === 1 ? 'Waiting for others to join.' : state === 'connected' ? '' : state === 'failed' ? 'Media connection failed.' : 'Connecting media…';
    status.textContent = `${n} ${n === 1 ? 'participant' : 'participants'}. ${media}`.trim();
  };

  /** Grid size from the area; then the receive height of each remote tile (§6.2). */
  const relayout = (): void => {
    const rect = grid.getBoundingClientRect();
    const g = gridFor(tiles.size, rect.width, rect.height);
    grid.style.setProperty('--cols', String(g.cols));
    grid.style.setProperty('--rows', String(g.rows));
    grid.style.setProperty('--tile-width', `${Math.floor(g.tileWidth)}px`);
    const heights: Record<string, number> = {};
    const px = g.tileHeight * (window.devicePixelRatio || 1);
    for (const id of tiles.keys()) if (id !== 'local') heights[Conference.videoSourceName(id)] = receiveHeightFor(px);
    conference.setReceiverConstraints(heights);
    renderStatus();
  };

  const micButton = h('button', { type: 'button', class: 'control', onclick: () => {
    conference.setAudioMuted(!media.audioMuted);
    renderLocal();
  } });
  const camButton = h('button', { type: 'button', class: 'control', onclick: async () => {
    camButton.disabled = true;
    try {
      await conference.setVideoMuted(!media.videoMuted);
    } catch (err) {
      console.error('camera toggle failed', err);
    }
    camButton.disabled = false;
    renderLocal();
  } });
  const leaveButton = h('button', { type: 'button', class: 'control danger', 'aria-label': 'Leave meeting', onclick: () => opts.onLeave() }, icon(ICONS.leave), h('span', null, 'Leave'));

  for (const p of conference.participants.values()) renderRemote(p);
  conference.on('participantJoined', renderRemote);
  conference.on('participantUpdated', renderRemote);
  conference.on('tracksChanged', renderRemote);
  conference.on('participantLeft', ({ id }) => {
    tiles.get(id)?.remove();
    tiles.delete(id);
    relayout();
  });
  conference.on('mediaState', renderStatus);
  media.on('changed', renderLocal);
  renderLocal();

  const el = h(
    'div',
    { class: 'page meeting' },
    h('header', { class: 'meeting-header' }, h('h1', null, opts.room), status),
    grid,
    h('nav', { class: 'toolbar', 'aria-label': 'Meeting controls' }, micButton, camButton, leaveButton),
  );
  new ResizeObserver(relayout).observe(grid);
  return { el, tiles };
}

/** After leaving or losing the meeting. */
export function endedView(room: string, message: string): HTMLElement {
  return h(
    'div',
    { class: 'page ended' },
    h('h1', null, message),
    h('p', null, h('a', { class: 'button primary', href: `/${encodeURIComponent(room)}` }, 'Rejoin'), ' ', h('a', { class: 'button', href: '/' }, 'Home')),
  );
}
