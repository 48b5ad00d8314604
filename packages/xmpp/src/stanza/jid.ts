/**
 * JID value type.
 *
 * References:
 * - https://www.rfc-editor.org/rfc/rfc7622 (XMPP address format)
 *
 * Preparation is deliberately simple (as Prosody's nodeprep/nameprep for the ASCII range): the domain and the
 * localpart are case-folded, the resource is kept as sent (MUC nicknames are case-sensitive). Characters that
 * RFC 7622 §3.3.1 forbids in a localpart are rejected, as are empty parts and parts over 1023 bytes.
 */
export class JidError extends Error {
  override readonly name = 'JidError';
}

const FORBIDDEN_LOCAL = /["&'/:<>@\s\u0000-\u001f\u007f]/;
const FORBIDDEN_DOMAIN = /[\s/@\u0000-\u001f\u007f"&'<>\\]/;
const FORBIDDEN_RESOURCE = /[\u0000-\u001f\u007f]/;

export class Jid {
  readonly local: string;
  readonly domain: string;
  readonly resource: string;
  #bare: string | undefined;
  #full: string | undefined;

  constructor(local: string, domain: string, resource = '') {
    this.local = local;
    this.domain = domain;
    this.resource = resource;
  }

  /** Parse and prepare a JID; throws JidError if it is not a valid address. */
  static parse(s: string): Jid {
    if (s.length === 0 || s.length > 3071) throw new JidError('bad length');
    const slash = s.indexOf('/');
    const head = slash === -1 ? s : s.slice(0, slash);
    const resource = slash === -1 ? '' : s.slice(slash + 1);
    const at = head.indexOf('@');
    const local = at === -1 ? '' : head.slice(0, at);
    let domain = at === -1 ? head : head.slice(at + 1);
    if (domain.endsWith('.')) domain = domain.slice(0, -1);
    if (at !== -1 && local.length === 0) throw new JidError('empty localpart');
    if (slash !== -1 && resource.length === 0) throw new JidError('empty resource');
    if (domain.length === 0 || byteLength(domain) > 1023 || FORBIDDEN_DOMAIN.test(domain)) throw new JidError('bad domain');
    if (local && (byteLength(local) > 1023 || FORBIDDEN_LOCAL.test(local))) throw new JidError('bad localpart');
    if (resource && (byteLength(resource) > 1023 || FORBIDDEN_RESOURCE.test(resource))) throw new JidError('bad resource');
    return new Jid(local.normalize('NFC').toLowerCase(), domain.toLowerCase(), resource.normalize('NFC'));
  }

  /** Parse, returning undefined instead of throwing. */
  static tryParse(s: string | undefined): Jid | undefined {
    if (s === undefined) return undefined;
    try {
      return Jid.parse(s);
    } catch {
      return undefined;
    }
  }

  get isBare(): boolean {
    return this.resource === '';
  }

  /** The bare JID as a string (local@domain or domain). */
  get bare(): string {
    return (this.#bare ??= this.local ? `${this.local}@${this.domain}` : this.domain);
  }

  /** The full JID as a string (bare/resource, or bare when there is no resource). */
  get full(): string {
    return (this.#full ??= this.resource ? `${this.bare}/${this.resource}` : this.bare);
  }

  toBare(): Jid {
    return this.resource ? new Jid(this.local, this.domain) : this;
  }

  withResource(resource: string): Jid {
    return new Jid(this.local, this.domain, resource);
  }

  equals(other: Jid | undefined): boolean {
    return other !== undefined && other.full === this.full;
  }

  toString(): string {
    return this.full;
  }
}

function byteLength(s: string): number {
  return Buffer.byteLength(s, 'utf8');
}
