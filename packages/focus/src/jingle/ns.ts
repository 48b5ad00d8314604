/**
 * XML namespaces of the Jingle payloads exchanged between the focus and lib-jitsi-meet. One constant per namespace,
 * named after its spec. Every extension element carries its namespace as an explicit `xmlns` attribute on itself
 * (PROTOCOL.md "Global rule"): LJM compares the attribute literally.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0166.html (Jingle)
 * - https://xmpp.org/extensions/xep-0167.html (RTP sessions)
 * - https://xmpp.org/extensions/xep-0176.html (ICE-UDP)
 * - https://xmpp.org/extensions/xep-0293.html (rtcp-fb), xep-0294 (rtp-hdrext), xep-0320 (DTLS), xep-0338/0339
 *   (grouping, source-specific media attributes), xep-0343 (dtls-sctp)
 * - PROTOCOL.md §4.3 (Jitsi extensions: ssrc-info, bridge-session, web-socket, json-message, initial-last-n)
 */

/** `<jingle>` (XEP-0166). */
export const NS_JINGLE = 'urn:xmpp:jingle:1';
/** Jingle-specific error conditions (`<unknown-session/>`, `<unsupported-info/>`, XEP-0166 §10). */
export const NS_JINGLE_ERRORS = 'urn:xmpp:jingle:errors:1';
/** `<description>` of an RTP content (XEP-0167). */
export const NS_JINGLE_RTP = 'urn:xmpp:jingle:apps:rtp:1';
/** `<rtp-hdrext>` and `<extmap-allow-mixed>` (XEP-0294). */
export const NS_JINGLE_RTP_HDREXT = 'urn:xmpp:jingle:apps:rtp:rtp-hdrext:0';
/** `<rtcp-fb>` and `<rtcp-fb-trr-int>` (XEP-0293). */
export const NS_JINGLE_RTP_RTCP_FB = 'urn:xmpp:jingle:apps:rtp:rtcp-fb:0';
/** `<source>` and `<ssrc-group>` (XEP-0339). */
export const NS_JINGLE_RTP_SSMA = 'urn:xmpp:jingle:apps:rtp:ssma:0';
/** `<transport>` and `<candidate>` (XEP-0176). */
export const NS_JINGLE_ICE_UDP = 'urn:xmpp:jingle:transports:ice-udp:1';
/** `<fingerprint>` (XEP-0320). */
export const NS_JINGLE_DTLS = 'urn:xmpp:jingle:apps:dtls:0';
/** `<group semantics="BUNDLE">` (XEP-0338). */
export const NS_JINGLE_GROUPING = 'urn:xmpp:jingle:apps:grouping:0';
/** `<sctpmap>` (XEP-0343). */
export const NS_JINGLE_DTLS_SCTP = 'urn:xmpp:jingle:transports:dtls-sctp:1';
/** Jitsi: `<ssrc-info owner>` inside a source, `<json-message>` under `<jingle>`. */
export const NS_JITSI_MEET = 'http://jitsi.org/jitmeet';
/** Jitsi: `<bridge-session>` (the conference IQ namespace, XE `BridgeSessionPacketExtension.NAMESPACE`). */
export const NS_JITSI_FOCUS = 'http://jitsi.org/protocol/focus';
/** Jitsi: `<web-socket url>` inside the transport (colibri-ws URL). */
export const NS_JITSI_COLIBRI = 'http://jitsi.org/protocol/colibri';
/** Jitsi: `<initial-last-n value>` inside a content of a session-accept. */
export const NS_JITSI_COLIBRI2 = 'jitsi:colibri2';
