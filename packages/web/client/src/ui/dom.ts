/**
 * A tiny DOM builder. No inline styles or `style` attributes anywhere (the page's CSP forbids them); dynamic layout
 * values go through CSS custom properties set with `style.setProperty`, which the CSP allows.
 */
export type Child = Node | string | null | undefined | false;
type Props = Record<string, string | number | boolean | undefined | ((ev: Event) => void)>;

/**
 * `h('button', { class: 'x', type: 'button', onclick: fn, 'aria-label': 'Mute' }, 'Mute')`. Event handlers are
 * `on<event>` keys; `true`/`false` toggle boolean attributes; `undefined` is skipped.
 */
export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === false) continue;
    if (typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.className = String(value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el: Node, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    el.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
  }
}

/** Replaces the content of the app root with `view` and moves focus to its first heading (for screen readers). */
export function show(view: HTMLElement): void {
  const root = document.getElementById('app');
  if (root === null) throw new Error('no #app element');
  root.replaceChildren(view);
  const heading = view.querySelector<HTMLElement>('h1');
  if (heading !== null) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
  }
}

const SVG_NS = 'http://www.w3.org/2000/svg';

/** A 24×24 line icon from path data, hidden from assistive technology (the control carries the label). */
export function icon(paths: readonly string[]): SVGSVGElement {
  const svg = document.createElementNS(SVG_NS, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('class', 'icon');
  for (const d of paths) {
    const p = document.createElementNS(SVG_NS, 'path');
    p.setAttribute('d', d);
    svg.appendChild(p);
  }
  return svg;
}

/** Icon paths (drawn for this client). */
export const ICONS = {
  mic: ['M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z', 'M5 11a7 7 0 0 0 14 0', 'M12 18v3'],
  micOff: ['M12 3a3 3 0 0 0-3 3v6a3 3 0 0 0 6 0V6a3 3 0 0 0-3-3z', 'M5 11a7 7 0 0 0 14 0', 'M12 18v3', 'M3 3l18 18'],
  camera: ['M3 7h12v10H3z', 'M15 10l6-3v10l-6-3'],
  cameraOff: ['M3 7h12v10H3z', 'M15 10l6-3v10l-6-3', 'M3 3l18 18'],
  leave: ['M10 5H5v14h5', 'M14 8l4 4-4 4', 'M18 12H9'],
  screen: ['M3 5h18v11H3z', 'M8 20h8', 'M12 16v4', 'M12 13V8', 'M9.5 10.5L12 8l2.5 2.5'],
  hand: ['M8 13V6a1.5 1.5 0 0 1 3 0v5', 'M11 11V4.5a1.5 1.5 0 0 1 3 0V11', 'M14 11V6a1.5 1.5 0 0 1 3 0v7a7 7 0 0 1-7 7 6 6 0 0 1-5-3l-2.5-4.5a1.5 1.5 0 0 1 2.5-1.5L8 14'],
  chat: ['M4 5h16v11H9l-5 4z'],
  people: ['M9 11a3 3 0 1 0 0-6 3 3 0 0 0 0 6z', 'M3 20a6 6 0 0 1 12 0', 'M16 5.5a3 3 0 0 1 0 5.5', 'M18 14.5a6 6 0 0 1 3 5.5'],
  grid: ['M4 4h7v7H4z', 'M13 4h7v7h-7z', 'M4 13h7v7H4z', 'M13 13h7v7h-7z'],
  stage: ['M3 4h18v11H3z', 'M3 18h5v2H3z', 'M10 18h4v2h-4z', 'M16 18h5v2h-5z'],
  settings: ['M4 7h10', 'M18 7h2', 'M4 17h4', 'M12 17h8', 'M16 5v4', 'M10 15v4'],
  close: ['M6 6l12 12', 'M18 6L6 18'],
  pin: ['M9 4h6', 'M10 4v6l-3 4h10l-3-4V4', 'M12 14v6'],
  star: ['M12 3l2.6 5.6 6.1.7-4.5 4.2 1.2 6L12 16.6 6.6 19.5l1.2-6L3.3 9.3l6.1-.7z'],
} as const;
