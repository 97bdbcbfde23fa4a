// What the audit log and request logs say about the id a caller asked for. An e-mail address or phone number in a
// path is personal data, and a log is read by more people than the API's agents; so those ids are written as a keyed
// hash (HMAC-SHA-256 of the normalised value, first 16 hex digits): whoever holds the key can check whether a given
// address was looked up, nobody can read it back, and a plain hash would fall to a dictionary of known addresses.
// c360 and source ids are opaque keys, kept as they are so the log says who was read.
import { createHmac, randomBytes } from 'node:crypto';
import { parseProfileId } from './identifiers.ts';

const PROFILE = '/customer/profile/';

export class IdRedactor {
  /** `key`: the HMAC key (C360_AUDIT_KEY or HOME/audit/hash.key); random when absent (hashes then match within one process only). */
  constructor(private readonly key: Buffer = randomBytes(32)) {}

  /** The keyed hash of a value, as written in logs: `#` and 16 hex digits. */
  hash(value: string): string {
    return `#${createHmac('sha256', this.key).update(value).digest('hex').slice(0, 16)}`;
  }

  /**
   * A profile id (`{idType}:{value}`, URL-decoded) fit for a log: c360 and source ids as given, e-mail and phone as the
   * keyed hash of their normalised form (so every way of writing one address gives one hash), anything else hashed.
   */
  profileId(raw: string): string {
    const colon = raw.indexOf(':');
    const type = colon > 0 ? raw.slice(0, colon) : '';
    if (type === 'c360' || type === 'source') return raw;
    let normalised = raw.slice(colon + 1).trim();
    try {
      const id = parseProfileId(raw);
      if (id.type === 'email') normalised = id.email;
      else if (id.type === 'phone') normalised = id.e164;
    } catch {
      // malformed: hash what was sent
    }
    return `${/^[a-z0-9]{1,10}$/.test(type) ? type : 'id'}:${this.hash(normalised)}`;
  }

  /** A request URL with a profile id redacted as above (query strings hold no personal data and are kept). */
  url(url: string): string {
    if (!url.startsWith(PROFILE)) return url;
    const q = url.indexOf('?');
    const path = q < 0 ? url : url.slice(0, q);
    const rest = path.slice(PROFILE.length);
    const links = rest.endsWith('/links') ? '/links' : '';
    const raw = rest.slice(0, rest.length - links.length);
    let decoded: string;
    try {
      decoded = decodeURIComponent(raw);
    } catch {
      decoded = raw;
    }
    const id = this.profileId(decoded);
    return `${PROFILE}${id === decoded ? raw : id}${links}${q < 0 ? '' : url.slice(q)}`;
  }
}
