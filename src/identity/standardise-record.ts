// One record standardised in TypeScript exactly as standardise.ts's SQL does (its macros, phone and address tables,
// nicknames, Soundex, the placeholder blocklist), for the stream's small batches: no DuckDB statement per batch.
// It answers only where it can be sure of DuckDB's result: printable ASCII text (DuckDB's lower/strip_accents differ
// from JavaScript's on some non-ASCII letters) and birth dates in the common layouts (DuckDB's date cast is lenient
// in ways not worth copying). For anything else it returns null and the caller standardises that record with the SQL.
// test/identity-ts-path.test.ts holds the two equal on the labelled data sets and on edge cases.
import { FORMAT_PATTERNS } from '../../schemas/contract.ts';
import { standardiseAddress } from './address.ts';
import { PLACEHOLDER_EMAIL_DOMAINS, PLACEHOLDER_EMAIL_LOCALS, PLACEHOLDER_EMAILS, PLACEHOLDER_NAMES, PLACEHOLDER_PHONE_DIGITS, PLACEHOLDER_TEXT } from './blocklist.ts';
import { RAW_COLUMNS } from './graph.ts';
import { NICKNAMES } from './nicknames.ts';
import { regionOf, toE164 } from './phone.ts';
import { soundex } from './phonetic.ts';
import { PLUS_TAG_DOMAINS } from './standardise.ts';

export type StdValue = string | boolean | null;

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;
const EMAIL = new RegExp(FORMAT_PATTERNS.email);
const NAME_PLACEHOLDERS = new Set(PLACEHOLDER_NAMES.map((n) => n.replace(/[^a-z]/g, '')));
const TEXT_PLACEHOLDERS = new Set<string>(PLACEHOLDER_TEXT);
const EMAIL_LOCALS = new Set<string>(PLACEHOLDER_EMAIL_LOCALS);
const EMAIL_DOMAINS = new Set<string>(PLACEHOLDER_EMAIL_DOMAINS);
const EMAILS = new Set<string>(PLACEHOLDER_EMAILS);
const PHONE_PLACEHOLDERS = new Set<string>(PLACEHOLDER_PHONE_DIGITS);
const PLUS_TAGS = new Set(PLUS_TAG_DOMAINS);
const col = Object.fromEntries(RAW_COLUMNS.map((c, i) => [c, i])) as Record<(typeof RAW_COLUMNS)[number], number>;

/** c360_name_key */
function nameKey(s: string | null): string | null {
  if (s === null) return null;
  const k = s.toLowerCase().replace(/[^a-z]/g, '');
  return NAME_PLACEHOLDERS.has(k) || k === '' ? null : k;
}

/** c360_fold */
function fold(s: string | null): string | null {
  if (s === null) return null;
  const raw = s.toLowerCase().replace(/[^a-z0-9 ]/g, ' ').replace(/^ +| +$/g, '').replace(/\s+/g, ' ') || null;
  return raw !== null && TEXT_PLACEHOLDERS.has(raw) ? null : raw;
}

/** c360_postcode (country: the raw COUNTRY_CODE) */
function postcode(s: string | null, country: string | null): string | null {
  if (s === null) return null;
  const an = s.toUpperCase().replace(/[^A-Z0-9]/g, '');
  if (/^[0-9]{9}$/.test(an) && ['US', 'USA'].includes((country ?? 'US').toUpperCase())) return s.replace(/[^0-9]/g, '').slice(0, 5);
  return an || null;
}

const isoDate = (y: number, m: number, d: number): string | undefined => {
  if (m < 1 || m > 12 || d < 1 || d > 31) return undefined;
  const t = new Date(Date.UTC(y, m - 1, d));
  if (t.getUTCFullYear() !== y || t.getUTCMonth() !== m - 1 || t.getUTCDate() !== d) return undefined;
  return `${String(y).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(d).padStart(2, '0')}`;
};

/**
 * c360_date for the layouts handled here: the date as YYYY-MM-DD, null when it is no date, undefined when unsure
 * (the SQL decides).
 */
function parseDate(s: string): string | null | undefined {
  let m = /^(\d{4})[-/](\d{2})[-/](\d{2})$/.exec(s);
  if (m && s[4] === s[7]) return isoDate(+m[1]!, +m[2]!, +m[3]!);
  if ((m = /^(\d{4})(\d{2})(\d{2})$/.exec(s))) return isoDate(+m[1]!, +m[2]!, +m[3]!);
  if ((m = /^(\d{1,2})\/(\d{1,2})\/(\d{4})$/.exec(s))) return isoDate(+m[3]!, +m[2]!, +m[1]!) ?? isoDate(+m[3]!, +m[1]!, +m[2]!);
  if ((m = /^(\d{1,2})\.(\d{1,2})\.(\d{4})$/.exec(s))) return isoDate(+m[3]!, +m[2]!, +m[1]!);
  return undefined;
}

/** c360_birth_date: undefined when unsure. */
function birthDate(s: string | null, today: string): string | null | undefined {
  if (s === null) return null;
  const d = parseDate(s);
  if (d === undefined) return undefined;
  return d !== null && d >= '1900-01-01' && d <= today ? d : null;
}

function emailPlaceholder(e: string | null): boolean {
  if (e === null) return false;
  const [local = '', domain = ''] = [e.split('@')[0], e.split('@')[1]];
  return EMAIL_LOCALS.has(local) || EMAIL_DOMAINS.has(domain) || EMAILS.has(e) || local.split(e[0]!).join('') === '';
}

function emailKey(e: string): string {
  const parts = e.split('@');
  const domain = parts[1] === 'googlemail.com' ? 'gmail.com' : parts[1] ?? '';
  const l = parts[0] ?? '';
  const local = domain === 'gmail.com' ? l.replace(/\+.*$/, '').split('.').join('') : PLUS_TAGS.has(domain) ? l.replace(/\+.*$/, '') : l;
  return `${local}@${domain}`;
}

/** phoneTable's result for one (raw, country): the NANP fast path, else libphonenumber. */
function phone(raw: string, country: string | null): { e164: string | null; placeholder: boolean } {
  if (country === null || ['US', 'USA', 'CA', 'CAN'].includes(country.toUpperCase())) {
    const t = raw.replace(/^ +| +$/g, '');
    const digits = raw.replace(/[^0-9]/g, '');
    const national = digits.length === 11 && digits[0] === '1' ? digits.slice(-10) : digits.length === 10 && !t.startsWith('+') ? digits : null;
    if (/^\+?[0-9 ().-]+$/.test(t) && /^[2-9][0-9]{2}[2-9][0-9]{6}$/.test(national ?? '')) {
      const placeholder = PHONE_PLACEHOLDERS.has(national!) || national!.split(national![0]!).join('') === '';
      return { e164: placeholder ? null : `+1${national}`, placeholder };
    }
  }
  const r = toE164(raw, regionOf(country));
  return { e164: r.e164, placeholder: r.placeholder };
}

export interface RecordStdOptions {
  /** Tenant of records without one. */
  tenant: string;
  /** Extra blocked values (overrides KIND=block and the graph's), as standardise()'s blocklist. */
  blocklist: readonly string[];
  /** Today (YYYY-MM-DD, UTC): later birth dates are implausible. */
  today?: string;
}

/**
 * The id_std columns (without rid and term frequencies) of one prepared record (RAW_COLUMNS order: trimmed of
 * spaces, blanks null, keys filled), or null when the SQL must decide.
 */
export function standardiseRecord(raw: readonly (string | null)[], o: RecordStdOptions): Record<string, StdValue> | null {
  for (const v of raw) if (v !== null && !PRINTABLE_ASCII.test(v)) return null;
  const v = (c: (typeof RAW_COLUMNS)[number]) => raw[col[c]] ?? null;
  const dob = birthDate(v('DATE_OF_BIRTH'), o.today ?? new Date().toISOString().slice(0, 10));
  if (dob === undefined) return null;
  const blocked = new Set(o.blocklist.length ? o.blocklist.map((b) => b.trim().toLowerCase()) : ['']);
  const fn = nameKey(v('FIRST_NAME'));
  const ln = nameKey(v('LAST_NAME'));
  const e = v('EMAIL_ADDRESS');
  const emailNorm = e !== null && EMAIL.test(e.toLowerCase()) ? e.toLowerCase() : null;
  const placeholder = emailPlaceholder(emailNorm);
  const key = emailNorm === null || placeholder || blocked.has(emailNorm) ? null : emailKey(emailNorm);
  const countryRaw = v('COUNTRY_CODE');
  const country = countryRaw === null ? null : countryRaw.toUpperCase();
  const p = v('PHONE_NUMBER') === null ? { e164: null, placeholder: false } : phone(v('PHONE_NUMBER')!, country);
  const addr = v('ADDRESS_LINE_1') === null ? { street: null, unit: null } : standardiseAddress(v('ADDRESS_LINE_1'));
  const state = fold(v('STATE_CODE'));
  const gender = v('GENDER');
  return {
    tenant_id: v('TENANT_ID') ?? o.tenant,
    source_system: v('SOURCE_SYSTEM') ?? 'DEFAULT',
    customer_id: v('CUSTOMER_ID'),
    fn,
    ln,
    email_norm: emailNorm,
    dob,
    city: fold(v('CITY')),
    state: state === null ? null : state.toUpperCase(),
    zip: postcode(v('ZIP_CODE'), countryRaw),
    country,
    gender: gender === null ? null : gender.slice(0, 1).toUpperCase(),
    email_key: key,
    email_placeholder: placeholder,
    phone_e164: p.e164 !== null && blocked.has(p.e164) ? null : p.e164,
    phone_placeholder: p.placeholder,
    fn_canon: fn === null ? null : NICKNAMES.get(fn) ?? fn,
    fn_sdx: fn === null ? null : soundex(fn),
    ln_sdx: ln === null ? null : soundex(ln),
    dob_str: dob === null ? null : dob.replace(/-/g, ''),
    addr: addr.street,
    addr_unit: addr.unit,
    email_local: key === null ? null : key.split('@')[0]!,
    email_addr: key === null ? null : `${emailNorm!.split('@')[0]!.replace(/\+.*$/, '')}@${key.split('@')[1]!}`,
  };
}

/** The columns standardiseRecord yields. */
export const RECORD_STD_COLUMNS: readonly string[] = Object.keys(
  standardiseRecord(RAW_COLUMNS.map(() => null), { tenant: 'default', blocklist: [], today: '2000-01-01' })!,
);
