/**
 * Seed corpus for the XML fuzzers: real stanzas as lib-jitsi-meet (strophe.js), jicofo-style focus code and BOSH
 * clients send them. Framed entries are single top-level elements (RFC 7395 WebSocket frames, the children of a
 * BOSH body); stream entries are whole documents for the `stream` parser mode (c2s TCP, XEP-0114, BOSH bodies).
 */

const DOMAIN = 'meet.jitsi';
const MUC = `conference.${DOMAIN}`;
const ROOM = `room1@${MUC}`;

/** LJM-style MUC join presence: caps, SourceInfo JSON, stats id, nick, audio/video muted, features. */
export const LJM_PRESENCE = `<presence xmlns="jabber:client" to="${ROOM}/a1b2c3d4"><x xmlns="http://jabber.org/protocol/muc"><history maxstanzas="0"/></x><stats-id>Lavina-kyy</stats-id><c xmlns="http://jabber.org/protocol/caps" hash="sha-1" node="https://jitsi.org/jitsi-meet" ver="fnZvLtdp6/ldJNnp5R8RbkTJTkU="/><SourceInfo>{"a1b2c3d4-a0":{"muted":true},"a1b2c3d4-v0":{"muted":false,"videoType":"camera"}}</SourceInfo><jitsi_participant_codecList>vp9,vp8,h264</jitsi_participant_codecList><nick xmlns="http://jabber.org/protocol/nick">Zoë &amp; &lt;friends&gt; &#x1F600;</nick><audiomuted>true</audiomuted><videomuted>false</videomuted><jitsi_participant_region>eu-west</jitsi_participant_region></presence>`;

/** Jingle session-initiate as the focus sends it (trimmed: one audio and one video content, ICE, DTLS). */
export const JINGLE_INITIATE = `<iq xmlns="jabber:client" type="set" id="jingle-1" to="${ROOM}/a1b2c3d4" from="${ROOM}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="session-initiate" initiator="focus@auth.${DOMAIN}/focus" sid="a3k0k2sg4uvnh"><content creator="initiator" name="audio" senders="both"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio" maxptime="60"><payload-type id="111" name="opus" clockrate="48000" channels="2"><parameter name="minptime" value="10"/><parameter name="useinbandfec" value="1"/><rtcp-fb xmlns="urn:xmpp:jingle:apps:rtp:rtcp-fb:0" type="transport-cc"/></payload-type><rtp-hdrext xmlns="urn:xmpp:jingle:apps:rtp:rtp-hdrext:0" id="1" uri="urn:ietf:params:rtp-hdrext:ssrc-audio-level"/><source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="2737486917" name="jvb-a0"><ssrc-info xmlns="http://jitsi.org/jitmeet" owner="jvb"/></source><rtcp-mux/></description><transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="2c4lf1g" pwd="5bm4qu5ilmvmvo7bqc7sdbkl2g"><web-socket xmlns="http://jitsi.org/protocol/colibri" url="wss://${DOMAIN}/colibri-ws/default-id/a3k/a1b2?pwd=5bm4"/><rtcp-mux/><fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash="sha-256" setup="actpass" required="false">6A:7B:4C:1F:9E:30:AB:58:12:77:90:D2:3F:61:0B:E4:C8:5A:11:2D:9B:7E:40:F3:66:A9:05:1C:DE:82:34:B7</fingerprint><candidate component="1" foundation="1" generation="0" id="6b2dd0b49" network="0" port="10000" protocol="udp" priority="2130706431" ip="10.0.0.5" type="host"/></transport></content><content creator="initiator" name="video" senders="both"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video"><payload-type id="100" name="VP8" clockrate="90000"><rtcp-fb xmlns="urn:xmpp:jingle:apps:rtp:rtcp-fb:0" type="nack" subtype="pli"/></payload-type><ssrc-group xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" semantics="FID"><source ssrc="1"/><source ssrc="2"/></ssrc-group></description><transport xmlns="urn:xmpp:jingle:transports:ice-udp:1"/></content><group xmlns="urn:xmpp:jingle:apps:grouping:0" semantics="BUNDLE"><content name="audio"/><content name="video"/></group></jingle></iq>`;

export const JINGLE_ACCEPT = `<iq xmlns="jabber:client" type="set" id="jingle-2" to="${ROOM}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="session-accept" responder="${ROOM}/a1b2c3d4" sid="a3k0k2sg4uvnh"><content creator="initiator" name="audio" senders="both"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="audio"><source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="3421" name="a1b2c3d4-a0"><parameter name="msid" value="a-stream a-track"/></source></description><transport xmlns="urn:xmpp:jingle:transports:ice-udp:1" ufrag="x" pwd="y"><fingerprint xmlns="urn:xmpp:jingle:apps:dtls:0" hash="sha-256" setup="active">AA:BB</fingerprint></transport></content></jingle></iq>`;

/** Framed top-level elements (WebSocket frames / BOSH body children). */
export const FRAMED: readonly string[] = [
  `<open xmlns="urn:ietf:params:xml:ns:xmpp-framing" to="${DOMAIN}" version="1.0"/>`,
  `<close xmlns="urn:ietf:params:xml:ns:xmpp-framing"/>`,
  `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="ANONYMOUS"/>`,
  `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="PLAIN">AGFsaWNlAHNlY3JldA==</auth>`,
  `<auth xmlns="urn:ietf:params:xml:ns:xmpp-sasl" mechanism="SCRAM-SHA-1">biwsbj1hbGljZSxyPWZ5a28rZDJsYmJGZ09OUnY5cWt4ZGF3TA==</auth>`,
  `<response xmlns="urn:ietf:params:xml:ns:xmpp-sasl">Yz1iaXdzLHI9ZnlrbytkMmxiYkZnT05Sdjlxa3hkYXdM</response>`,
  `<abort xmlns="urn:ietf:params:xml:ns:xmpp-sasl"/>`,
  `<iq type="set" id="bind1" xmlns="jabber:client"><bind xmlns="urn:ietf:params:xml:ns:xmpp-bind"><resource>web-1</resource></bind></iq>`,
  `<iq type="set" id="sess" xmlns="jabber:client"><session xmlns="urn:ietf:params:xml:ns:xmpp-session"/></iq>`,
  `<enable xmlns="urn:xmpp:sm:3" resume="true"/>`,
  `<r xmlns="urn:xmpp:sm:3"/>`,
  `<a xmlns="urn:xmpp:sm:3" h="4"/>`,
  `<resume xmlns="urn:xmpp:sm:3" h="0" previd="c29tZS1pZA=="/>`,
  `<iq type="get" id="ping1" xmlns="jabber:client" to="${DOMAIN}"><ping xmlns="urn:xmpp:ping"/></iq>`,
  `<iq type="get" id="disco1" xmlns="jabber:client" to="${DOMAIN}"><query xmlns="http://jabber.org/protocol/disco#info"/></iq>`,
  `<iq type="get" id="disco2" xmlns="jabber:client" to="${MUC}"><query xmlns="http://jabber.org/protocol/disco#items"/></iq>`,
  `<iq type="get" id="ext1" xmlns="jabber:client" to="${DOMAIN}"><services xmlns="urn:xmpp:extdisco:2" type="turns"/></iq>`,
  `<iq type="set" id="conf1" xmlns="jabber:client" to="focus.${DOMAIN}"><conference xmlns="http://jitsi.org/protocol/focus" room="${ROOM}" machine-uid="0c1d"><property name="startBitrate" value="800"/><property name="disableRtx" value="false"/></conference></iq>`,
  LJM_PRESENCE,
  `<presence xmlns="jabber:client" to="${ROOM}/a1b2c3d4" type="unavailable"/>`,
  `<presence xmlns="jabber:client"><priority>1</priority><status>away &amp; busy</status></presence>`,
  `<message xmlns="jabber:client" to="${ROOM}" type="groupchat" id="m1"><body>hello &lt;world&gt; &quot;x&quot; &apos;y&apos; &#233;&#x4E2D;</body><nick xmlns="http://jabber.org/protocol/nick">bob</nick></message>`,
  `<message xmlns="jabber:client" to="${ROOM}/a1b2c3d4" type="chat"><body><![CDATA[<not a tag> & raw]]></body><json-message xmlns="http://jitsi.org/jitmeet">{"type":"endpoint-stats","a":[1,2]}</json-message></message>`,
  `<iq type="set" id="own1" xmlns="jabber:client" to="${ROOM}"><query xmlns="http://jabber.org/protocol/muc#owner"><x xmlns="jabber:x:data" type="submit"><field var="FORM_TYPE"><value>http://jabber.org/protocol/muc#roomconfig</value></field><field var="muc#roomconfig_roomsecret"><value>s3cr3t</value></field></x></query></iq>`,
  `<iq type="set" id="adm1" xmlns="jabber:client" to="${ROOM}"><query xmlns="http://jabber.org/protocol/muc#admin"><item nick="a1b2c3d4" role="none"><reason>bye</reason></item></query></iq>`,
  JINGLE_INITIATE,
  JINGLE_ACCEPT,
  `<iq type="set" id="jingle-3" xmlns="jabber:client" to="${ROOM}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="source-add" sid="a3k0k2sg4uvnh"><content name="video"><description xmlns="urn:xmpp:jingle:apps:rtp:1" media="video"><source xmlns="urn:xmpp:jingle:apps:rtp:ssma:0" ssrc="77" name="a1b2c3d4-v1" videoType="desktop"/></description></content></jingle></iq>`,
  `<iq type="set" id="jingle-4" xmlns="jabber:client" to="${ROOM}/focus"><jingle xmlns="urn:xmpp:jingle:1" action="session-terminate" sid="a3k0k2sg4uvnh"><reason><success/><text>BYE</text></reason></jingle></iq>`,
  `<iq type="result" id="jingle-1" xmlns="jabber:client" to="${ROOM}/focus"/>`,
];

/** A BOSH body wrapping some framed stanzas (XEP-0124/0206). */
export function boshBody(children: string, rid = 1573741820): string {
  return `<body rid="${rid}" sid="SomeSID" xmlns="http://jabber.org/protocol/httpbind">${children}</body>`;
}

/** Whole documents for the `stream` mode. */
export const STREAMS: readonly string[] = [
  `<?xml version="1.0"?><stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="${DOMAIN}" version="1.0" xml:lang="en">${FRAMED.slice(2, 6).join('')}</stream:stream>`,
  `<stream:stream xmlns="jabber:client" xmlns:stream="http://etherx.jabber.org/streams" to="${DOMAIN}" version="1.0">\n  ${LJM_PRESENCE}\n  ${JINGLE_ACCEPT} </stream:stream>`,
  `<stream:stream xmlns="jabber:component:accept" xmlns:stream="http://etherx.jabber.org/streams" to="focus.${DOMAIN}"><handshake>aaee83c26aeeafcbabeabfcbcd50df997e0a2a1e</handshake>${JINGLE_INITIATE}`,
  boshBody(''),
  boshBody(`<iq type="get" id="ping1" xmlns="jabber:client"><ping xmlns="urn:xmpp:ping"/></iq>${LJM_PRESENCE}`, 1573741821),
  `<body content="text/xml; charset=utf-8" hold="1" rid="1573741820" to="${DOMAIN}" ver="1.6" wait="60" ack="1" xml:lang="en" xmpp:version="1.0" xmlns="http://jabber.org/protocol/httpbind" xmlns:xmpp="urn:xmpp:xbosh"/>`,
  `<body rid="1573741822" sid="SomeSID" xmpp:restart="true" xmlns="http://jabber.org/protocol/httpbind" xmlns:xmpp="urn:xmpp:xbosh"/>`,
  `<body rid="1573741823" sid="SomeSID" type="terminate" xmlns="http://jabber.org/protocol/httpbind"><presence type="unavailable" xmlns="jabber:client"/></body>`,
];

/** Restricted-XML constructs (RFC 6120 §11.1) and classic parser attacks, for insertion. */
export const RESTRICTED: readonly string[] = [
  '<!-- comment -->',
  '<!--',
  '<?php echo 1 ?>',
  '<?xml version="1.0"?>',
  '<?xml-stylesheet href="x"?>',
  '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>',
  '<!DOCTYPE x SYSTEM "file:///etc/passwd">',
  '<!ENTITY xxe SYSTEM "http://127.0.0.1/">',
  '&lol2;',
  '&xxe;',
  '&nbsp;',
  '&#0;',
  '&#x110000;',
  '&#xD800;',
  '&#65;',
  '&#x;',
  '&amp',
  '&',
  ']]>',
  '<![CDATA[',
  '<![CDATA[x]]>',
  '<![INCLUDE[',
  '<!ELEMENT a ANY>',
  '\u0000',
  '\u0001',
  '\uFFFE',
  '\uFFFF',
  '\uD800',
  '\uDC00x',
  '\r\n',
];
