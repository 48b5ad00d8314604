/**
 * Room subject (after Prosody's subject.lib.lua): a groupchat message with `<subject>` and no `<body>`/`<thread>` is
 * a subject change, allowed to moderators, and to participants if muc#roomconfig_changesubject is on (forbidden
 * otherwise). The subject is sent to each joiner after its presences and history, only if one is set.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#subject-mod (§8.1), #enter-subject (§7.2.15)
 */
import { StanzaError } from '../../stanza/errors.js';
import { NS_CLIENT } from '../../stanza/ns.js';
import { child, text, xml } from '../../stanza/xml.js';
import { booleanField, field } from '../forms.js';
import type { MucService } from '../index.js';
import { Outgoing } from '../outgoing.js';

/** Handle subject changes and send the subject to joiners. Called once by loadMuc(). */
export function loadSubject(muc: MucService): void {
  muc.events.on('muc-config-form', ({ room, form }) => {
    form.cnode(field('muc#roomconfig_changesubject', 'boolean', 'Allow participants to change the subject', room.config.changeSubject ? '1' : '0'));
  });
  muc.events.on('muc-config-submitted', ({ fields, config }) => {
    const v = booleanField(fields, 'muc#roomconfig_changesubject');
    if (v !== undefined) config.changeSubject = v;
  });
  muc.events.on('muc-occupant-groupchat', ({ room, occupant, stanza }) => {
    const subject = child(stanza, 'subject');
    if (!subject || child(stanza, 'body') || child(stanza, 'thread')) return;
    const allowed = occupant.role === 'moderator' || (room.config.changeSubject && occupant.role === 'participant');
    if (!allowed) throw new StanzaError('forbidden', { type: 'auth', text: 'You are not allowed to change the subject' });
    const value = text(subject);
    room.subject = value === '' ? undefined : { text: value, from: occupant.jid.full, at: muc.server.now() };
  });
  muc.events.on('muc-occupant-session-new', ({ room, occupant }) => {
    const subject = room.subject;
    if (!subject) return;
    room.send(new Outgoing(xml('message', { xmlns: NS_CLIENT, type: 'groupchat', from: subject.from }, xml('subject', null, subject.text))), occupant);
  }, 20);
}
