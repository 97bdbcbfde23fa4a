// The e-mail match key in JavaScript, for lookups by e-mail without a query per request: the same rules as identity
// resolution's DuckDB macros c360_email_key(c360_email_norm(...)) (src/identity/standardise.ts), which build the
// served snapshot's keys; test/serve-email-key.test.ts checks the two agree address by address.
import { FORMAT_PATTERNS } from '../../schemas/contract.ts';
import { PLUS_TAG_DOMAINS } from '../identity/standardise.ts';

const EMAIL = new RegExp(FORMAT_PATTERNS.email);
const PLUS_TAG = new Set(PLUS_TAG_DOMAINS);

/** The match key of an address as written (trimmed, lower-cased, provider aliases folded), or null when it is no address. */
export function emailKey(raw: string): string | null {
  const e = raw.replace(/^ +| +$/g, '').toLowerCase(); // DuckDB's trim(): spaces only
  if (!EMAIL.test(e)) return null;
  const at = e.indexOf('@');
  const local = e.slice(0, at);
  // split_part(e, '@', 2): the text between the first and a second '@' (the pattern allows one only)
  const rest = e.slice(at + 1);
  const second = rest.indexOf('@');
  let domain = second < 0 ? rest : rest.slice(0, second);
  if (domain === 'googlemail.com') domain = 'gmail.com';
  let key = local;
  if (domain === 'gmail.com') key = local.replace(/\+.*$/, '').replaceAll('.', '');
  else if (PLUS_TAG.has(domain)) key = local.replace(/\+.*$/, '');
  return `${key}@${domain}`;
}
