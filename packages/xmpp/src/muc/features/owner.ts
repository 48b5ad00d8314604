/**
 * muc#owner: the room configuration form (get/submit/cancel) and room destruction, owner only.
 *
 * The form is assembled from `muc-config-form` (each feature adds its fields) and a submission is applied through
 * `muc-config-submitted` on a draft copy of the config, which replaces the room's config only if every handler
 * accepted it; then the owner gets its result and every occupant a status-104 message (LJM re-reads disco#info).
 * Rooms are always temporary and non-anonymous: `persistentroom` is fixed to 0 and `whois` to `anyone`.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0045.html#roomconfig (§10.2), #destroyroom (§10.9), #registrar-formtype-owner
 * - PROTOCOL.md §3.3.7
 */
import type { StanzaEvent } from '../../host.js';
import { StanzaError } from '../../stanza/errors.js';
import { NS_CLIENT, NS_DATA, NS_MUC_OWNER, NS_MUC_ROOMCONFIG } from '../../stanza/ns.js';
import { child, xml } from '../../stanza/xml.js';
import { booleanField, dataForm, field, submittedValues, textField } from '../forms.js';
import type { MucService } from '../index.js';
import type { Room } from '../room.js';

/** Register the muc#owner IQ handlers (configuration form, destroy) and the core form fields. Called once by loadMuc(). */
export function loadOwner(muc: MucService): void {
  const server = muc.server;

  const ownerRoom = (e: StanzaEvent): Room => {
    const room = muc.rooms.get(e.to.bare);
    if (!room) throw new StanzaError('item-not-found');
    if (room.getAffiliation(e.from.bare) !== 'owner') throw new StanzaError('forbidden', { type: 'auth', text: 'Only owners may configure the room' });
    return room;
  };

  // Core fields first (priority 100), whois last.
  muc.events.on('muc-config-form', ({ room, form }) => {
    form.cnode(field('muc#roomconfig_roomname', 'text-single', 'Title', room.config.name));
    form.cnode(field('muc#roomconfig_roomdesc', 'text-single', 'Description', room.config.description));
    form.cnode(field('muc#roomconfig_persistentroom', 'boolean', 'Persistent room (not supported)', '0'));
  }, 100);
  muc.events.on('muc-config-form', ({ form }) => {
    form.cnode(field('muc#roomconfig_whois', 'list-single', 'Who may discover real JIDs', 'anyone', [['anyone', 'Anyone']]));
  }, -100);
  muc.events.on('muc-config-submitted', ({ fields, config }) => {
    const name = textField(fields, 'muc#roomconfig_roomname');
    if (name !== undefined) config.name = name;
    const description = textField(fields, 'muc#roomconfig_roomdesc');
    if (description !== undefined) config.description = description;
    if (booleanField(fields, 'muc#roomconfig_persistentroom')) throw new StanzaError('not-acceptable', { text: 'Persistent rooms are not supported' });
    const whois = textField(fields, 'muc#roomconfig_whois');
    if (whois !== undefined && whois !== 'anyone') throw new StanzaError('not-acceptable', { text: 'Only non-anonymous rooms are supported' });
  }, 100);

  muc.host.iq('get', 'bare', NS_MUC_OWNER, 'query', (e) => {
    const room = ownerRoom(e);
    const form = dataForm('form', NS_MUC_ROOMCONFIG, `Configuration for ${room.jid.bare}`);
    room.fire('muc-config-form', { room, actor: e.from, form });
    return xml('query', { xmlns: NS_MUC_OWNER }, form);
  });

  // Registered on the bus directly: the handler sends the result itself so that it precedes the 104 message.
  muc.host.bus.on(`iq-set/bare/${NS_MUC_OWNER}:query`, (e) => {
    const room = ownerRoom(e);
    const query = child(e.stanza, 'query', NS_MUC_OWNER);
    const destroy = query ? child(query, 'destroy') : undefined;
    if (destroy) {
      const reason = destroy.getChildText('reason') ?? undefined;
      room.destroy({ reason, alternate: destroy.attrs.jid, actor: e.from });
      return true;
    }
    const form = query ? child(query, 'x', NS_DATA) : undefined;
    if (!form) throw new StanzaError('bad-request', { text: 'Expected a data form or <destroy/>' });
    if (form.attrs.type === 'cancel') return true;
    if (form.attrs.type !== 'submit') throw new StanzaError('bad-request', { text: 'Expected a submitted form' });
    const fields = submittedValues(form);
    const formType = fields.get('FORM_TYPE')?.[0];
    if (formType !== undefined && formType !== NS_MUC_ROOMCONFIG) throw new StanzaError('bad-request', { text: 'Unknown FORM_TYPE' });
    const previous = room.config;
    const draft = { ...previous };
    room.fire('muc-config-submitted', { room, actor: e.from, fields, config: draft });
    room.config = draft;
    server.sendFrom(e.to, xml('iq', { xmlns: NS_CLIENT, type: 'result', id: e.stanza.attrs.id, to: e.from.full, from: e.stanza.attrs.to }));
    room.emit('muc-config-changed', { room, previous, actor: e.from });
    if (!room.destroyed) room.sendStatusMessage(['104']);
    return false;
  });
}
