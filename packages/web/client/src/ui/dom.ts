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
} as const;
