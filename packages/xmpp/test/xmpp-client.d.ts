// @xmpp/client ships no type declarations; the tests use this much of it.
declare module '@xmpp/client' {
  import type { Element } from 'ltx';
  export function xml(name: string, attrs?: Record<string, string>, ...children: (Element | string)[]): Element;
  export interface XmppClient {
    on(event: 'online', cb: (jid: { toString(): string }) => void): void;
    on(event: 'error' | 'offline' | 'stanza', cb: (arg: never) => void): void;
    start(): Promise<unknown>;
    stop(): Promise<void>;
    send(el: Element): Promise<void>;
    iqCaller: { request(el: Element, timeoutMs?: number): Promise<Element> };
  }
  export function client(opts: Record<string, unknown>): XmppClient;
}
