/**
 * `/`: start or join a meeting by name (a readable random name is suggested), and the recent meetings kept in local
 * storage, each with a control to forget it, plus one to forget them all (none when the server disabled them).
 */
import { normalizeRoomName, randomRoomName, roomNameProblem, suggestRoomName } from '../room-name.js';
import type { LocalSettings } from '../storage.js';
import { h } from './dom.js';

export function homeView(settings: LocalSettings, maxRoomNameLength: number): HTMLElement {
  const suggestion = randomRoomName();
  const input = h('input', {
    id: 'room-name',
    name: 'room',
    type: 'text',
    autocomplete: 'off',
    autocapitalize: 'none',
    spellcheck: 'false',
    placeholder: suggestion,
    maxlength: maxRoomNameLength,
    'aria-describedby': 'room-name-hint room-name-error',
  });
  const error = h('p', { id: 'room-name-error', class: 'error', role: 'alert' });
  const form = h(
    'form',
    { class: 'card', onsubmit: (ev) => {
      ev.preventDefault();
      const name = normalizeRoomName(input.value) || suggestion;
      const problem = roomNameProblem(name, maxRoomNameLength);
      if (problem !== undefined) {
        const suggestion = suggestRoomName(input.value, maxRoomNameLength);
        error.textContent = suggestion !== undefined ? `${problem} How about “${suggestion}”?` : problem;
        input.setAttribute('aria-invalid', 'true');
        input.focus();
        return;
      }
      location.assign(`/${encodeURIComponent(name)}`);
    } },
    h('label', { for: 'room-name' }, 'Meeting name'),
    h('div', { class: 'row' }, input, h('button', { type: 'submit', class: 'primary' }, 'Start meeting')),
    h('p', { id: 'room-name-hint', class: 'hint' }, 'Leave it empty to use the suggested name. Anyone with the link can join.'),
    error,
  );

  const recent = h('section', { class: 'card recent', 'aria-labelledby': 'recent-heading' });
  const renderRecent = (): void => {
    const rooms = settings.recentRooms;
    recent.replaceChildren(h('h2', { id: 'recent-heading' }, 'Recent meetings'));
    if (!settings.recentRoomsEnabled) {
      recent.append(h('p', { class: 'hint' }, 'This server does not keep a list of recent meetings in your browser.'));
      return;
    }
    if (rooms.length === 0) {
      recent.append(h('p', { class: 'hint' }, 'Meetings you join are listed here, in this browser only.'));
      return;
    }
    const list = h('ul', { class: 'recent-list' });
    for (const r of rooms) {
      list.append(
        h(
          'li',
          null,
          h('a', { href: `/${encodeURIComponent(r.name)}` }, r.name),
          h('button', { type: 'button', class: 'link', 'aria-label': `Forget ${r.name}`, onclick: () => {
            settings.forgetRoom(r.name);
            renderRecent();
          } }, 'Forget'),
        ),
      );
    }
    recent.append(
      list,
      h('button', { type: 'button', onclick: () => {
        settings.forgetAllRooms();
        renderRecent();
      } }, 'Forget all recent meetings'),
    );
  };
  renderRecent();

  return h(
    'div',
    { class: 'page home' },
    h('h1', null, 'Video meetings'),
    h('p', { class: 'lead' }, 'Free, private meetings in your browser. Nothing is recorded or stored on the server.'),
    form,
    recent,
  );
}
