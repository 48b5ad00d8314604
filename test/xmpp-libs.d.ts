// @xmpp/xml ships no type declarations; test/xmpp-link.ts builds IQ replies with its parser.
declare module '@xmpp/xml/lib/parse.js' {
  export default function parse(xml: string): unknown;
}
