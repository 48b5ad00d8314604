/**
 * XEP-0004 data form helpers for the room configuration (muc#roomconfig) and room info (muc#roominfo) forms.
 *
 * References:
 * - https://xmpp.org/extensions/xep-0004.html
 * - https://xmpp.org/extensions/xep-0045.html#registrar-formtype-owner, #registrar-formtype-roominfo
 */
import { StanzaError } from '../stanza/errors.js';
import { NS_DATA } from '../stanza/ns.js';
import { type Element, child, text, xml } from '../stanza/xml.js';
import type { MucService } from './index.js';

export type FieldType = 'boolean' | 'fixed' | 'hidden' | 'jid-multi' | 'jid-single' | 'list-multi' | 'list-single' | 'text-multi' | 'text-private' | 'text-single';

/** One `<field>`; `options` for list fields as [value, label] pairs. */
export function field(
  name: string,
  type: FieldType | undefined,
  label: string | undefined,
  values: string | readonly string[],
  options?: readonly (readonly [string, string])[],
): Element {
  const f = xml('field', { var: name, type, label });
  for (const v of typeof values === 'string' ? [values] : values) f.cnode(xml('value', null, v));
  for (const [value, optionLabel] of options ?? []) f.cnode(xml('option', { label: optionLabel }, xml('value', null, value)));
  return f;
}

/** `<field var="FORM_TYPE" type="hidden"><value>ns</value></field>`. */
export function formType(ns: string): Element {
  return field('FORM_TYPE', 'hidden', undefined, ns);
}

/** A data form of `type` with its FORM_TYPE. */
export function dataForm(type: 'form' | 'result' | 'submit', ns: string, title?: string): Element {
  return xml('x', { xmlns: NS_DATA, type }, title ? xml('title', null, title) : undefined, formType(ns));
}

/** The values of a submitted form by field var (FORM_TYPE included). */
export function submittedValues(form: Element): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const c of form.children) {
    if (typeof c === 'string') continue;
    const f = c as Element;
    if (f.name !== 'field' || typeof f.attrs.var !== 'string') continue;
    const values: string[] = [];
    for (const v of f.children) if (typeof v !== 'string' && (v as Element).name === 'value') values.push(text(v as Element));
    out.set(f.attrs.var, values);
  }
  return out;
}

/** XEP-0004 §3.3 boolean: "1"/"true" or "0"/"false"; anything else is a bad value. */
export function parseBoolean(name: string, values: readonly string[]): boolean {
  const v = (values[0] ?? '').trim();
  if (v === '1' || v === 'true') return true;
  if (v === '0' || v === 'false' || v === '') return false;
  throw new StanzaError('not-acceptable', { text: `${name}: not a boolean` });
}

/** Read a boolean field if present in the submission. */
export function booleanField(fields: ReadonlyMap<string, readonly string[]>, name: string): boolean | undefined {
  const v = fields.get(name);
  return v === undefined ? undefined : parseBoolean(name, v);
}

/** Read a single-valued text field if present. */
export function textField(fields: ReadonlyMap<string, readonly string[]>, name: string): string | undefined {
  const v = fields.get(name);
  return v === undefined ? undefined : (v[0] ?? '');
}

/** The `<x xmlns="jabber:x:data">` child of an element, if any. */
export function formOf(el: Element): Element | undefined {
  return child(el, 'x', NS_DATA);
}

/** A boolean room option: its config-form field, how a submission sets it, and its disco#info feature pair. */
export interface BooleanRoomOption {
  /** The muc#roomconfig field var. */
  field: string;
  label: string;
  key: 'public' | 'membersOnly' | 'moderated' | 'changeSubject';
  /** disco#info feature when on and when off. */
  features: readonly [on: string, off: string];
}

/** Register a boolean room option on the service's form, submit and disco#info events. */
export function registerBooleanOption(muc: MucService, opt: BooleanRoomOption): void {
  muc.events.on('muc-config-form', ({ room, form }) => {
    form.cnode(field(opt.field, 'boolean', opt.label, room.config[opt.key] ? '1' : '0'));
  });
  muc.events.on('muc-config-submitted', ({ fields, config }) => {
    const v = booleanField(fields, opt.field);
    if (v !== undefined) config[opt.key] = v;
  });
  muc.events.on('muc-disco#info', ({ room, features }) => {
    features.push(room.config[opt.key] ? opt.features[0] : opt.features[1]);
  });
}
