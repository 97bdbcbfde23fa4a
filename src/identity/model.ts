// The matching model as data: comparisons (fields with ordered agreement levels) and blocking rules. The SQL
// generators in sql.ts turn these into DuckDB SQL; nothing here touches an engine.

export interface Level {
  /** Short label written to the match ledger, e.g. 'exact', 'jw>=0.92'. */
  label: string;
  /** Condition over l.<col> and r.<col> of id_std. */
  sql: string;
  /** Term-frequency column (tf_<col> on id_std) that replaces u for this level: rare values weigh more. */
  tf?: string;
}

export interface Comparison {
  name: string;
  /** id_std columns that must carry data for the comparison to be used. */
  requires: readonly string[];
  /** Blocking keys that fix this comparison: pairs found by a rule on them get no weight from it. */
  blockedBy: readonly string[];
  /** When either side lacks the value: the level is 'null' and adds no evidence. */
  nullSql: string;
  /** Best first. The implicit last level 'else' (gamma 0) is disagreement. */
  levels: readonly Level[];
  /**
   * Comparisons whose best level implies agreement on this field (the same street address lies in the same city
   * and postcode). When one of them is at its best level, agreement here is no new evidence and weighs nothing:
   * counting it again would treat one fact as three independent ones.
   */
  impliedBy?: readonly string[];
  /**
   * Finer fields that, when compared (present on both sides), take over corroboration: a city shared by two records
   * whose street addresses and postcodes differ is shared by many strangers too, so it corroborates a name match
   * only when no finer location could be compared.
   */
  finer?: readonly string[];
  /** Shared by the members of a household (surname, address, phone, a family email): see HOUSEHOLD. */
  household?: 'shared';
  /** Agreement here may come from the names alone (email local parts built from them); it never corroborates a name match. */
  nameDerivedLevels?: readonly string[];
}

export interface BlockingRule {
  name: string;
  /** Equi-join keys on id_std (all must be non-null). */
  keys: readonly string[];
  /** Extra join condition, for rules that are not plain equi-joins. */
  on?: string;
  /** Columns the `on` condition equates (for leaving their comparisons out of this rule's scores). */
  uses?: readonly string[];
  /**
   * Whether EM estimates m on this rule's block. Name-keyed blocks are not used: people who share a name also
   * share e.g. email local parts built from it far more often than random pairs do, which breaks the conditional
   * independence EM relies on (the estimate then mistakes namesakes for matches).
   */
  train?: boolean;
}

const jw = (col: string, t: number) => `jaro_winkler_similarity(l.${col}, r.${col}) >= ${t}`;
const nul = (col: string) => `l.${col} IS NULL OR r.${col} IS NULL`;
const SWAPPED = 'jaro_winkler_similarity(l.fn, r.ln) >= 0.92 AND jaro_winkler_similarity(l.ln, r.fn) >= 0.92';

export const COMPARISONS: readonly Comparison[] = [
  {
    name: 'first_name',
    blockedBy: ['fn', 'fn_sdx', 'fn_canon'],
    requires: ['fn'],
    nullSql: nul('fn'),
    levels: [
      { label: 'exact', sql: 'l.fn = r.fn', tf: 'fn' },
      { label: 'nickname', sql: 'l.fn_canon = r.fn_canon' },
      // First name and surname entered the other way round, each spelt the same or within a typo (JW >= 0.92).
      { label: 'swapped', sql: SWAPPED },
      { label: 'jw>=0.92', sql: jw('fn', 0.92) },
      { label: 'jw>=0.80', sql: jw('fn', 0.8) },
      // A typo in a nickname's full form ("jaems" vs "jim" -> james).
      { label: 'nickname~jw>=0.85', sql: jw('fn_canon', 0.85) },
      { label: 'soundex', sql: 'l.fn_sdx = r.fn_sdx' },
    ],
  },
  {
    name: 'last_name',
    household: 'shared',
    blockedBy: ['ln', 'ln_sdx'],
    requires: ['ln'],
    nullSql: nul('ln'),
    levels: [
      { label: 'exact', sql: 'l.ln = r.ln', tf: 'ln' },
      { label: 'swapped', sql: SWAPPED },
      { label: 'jw>=0.92', sql: jw('ln', 0.92) },
      { label: 'jw>=0.80', sql: jw('ln', 0.8) },
      { label: 'soundex', sql: 'l.ln_sdx = r.ln_sdx' },
    ],
  },
  {
    name: 'date_of_birth',
    blockedBy: ['dob'],
    requires: ['dob'],
    nullSql: nul('dob'),
    levels: [
      // Term-frequency adjusted: systems clamp or default birth dates (an 18th birthday, 1900-01-01), and such a
      // shared value says little.
      { label: 'exact', sql: 'l.dob = r.dob', tf: 'dob' },
      { label: 'dl<=1', sql: 'damerau_levenshtein(l.dob_str, r.dob_str) <= 1' },
      { label: 'dl<=2', sql: 'damerau_levenshtein(l.dob_str, r.dob_str) <= 2' },
      { label: '<=1y', sql: "abs(date_diff('day', l.dob, r.dob)) <= 366" },
    ],
  },
  {
    name: 'email',
    household: 'shared',
    blockedBy: ['email_key', 'email_local'],
    nameDerivedLevels: ['local-part', 'same-domain,jw>=0.88'],
    requires: ['email_key'],
    nullSql: nul('email_key'),
    levels: [
      { label: 'exact', sql: 'l.email_addr = r.email_addr', tf: 'email_addr' },
      // Same mailbox by the provider's rules (Gmail dots) but spelt differently: its own level, so EM decides how
      // much a dot variant is worth instead of treating it as the same address.
      { label: 'provider-key', sql: 'l.email_key = r.email_key', tf: 'email_key' },
      { label: 'local-part', sql: 'l.email_local = r.email_local', tf: 'email_local' },
      // Same provider and a near-identical local part: a typo. Across providers, similar local parts mostly come
      // from similar names (patricia_garcia@ vs patriciagarcia@), which the name comparisons already count.
      { label: 'same-domain,jw>=0.88', sql: `split_part(l.email_key, '@', 2) = split_part(r.email_key, '@', 2) AND ${jw('email_local', 0.88)}` },
    ],
  },
  {
    name: 'phone',
    household: 'shared',
    blockedBy: ['phone_e164'],
    requires: ['phone_e164'],
    nullSql: nul('phone_e164'),
    levels: [
      { label: 'exact', sql: 'l.phone_e164 = r.phone_e164' },
      { label: 'last-7', sql: 'right(l.phone_e164, 7) = right(r.phone_e164, 7)' },
    ],
  },
  {
    name: 'address',
    household: 'shared',
    blockedBy: ['addr'],
    requires: ['addr'],
    nullSql: nul('addr'),
    levels: [
      { label: 'exact', sql: 'l.addr = r.addr', tf: 'addr' },
      { label: 'jw>=0.90', sql: jw('addr', 0.9) },
      { label: 'jw>=0.75', sql: jw('addr', 0.75) },
    ],
  },
  {
    name: 'city',
    household: 'shared',
    blockedBy: ['city'],
    finer: ['address', 'postcode'],
    impliedBy: ['address'],
    requires: ['city'],
    nullSql: nul('city'),
    levels: [
      { label: 'exact', sql: 'l.city = r.city', tf: 'city' },
      { label: 'jw>=0.85', sql: jw('city', 0.85) },
    ],
  },
  {
    name: 'postcode',
    household: 'shared',
    blockedBy: ['zip'],
    impliedBy: ['address'],
    requires: ['zip'],
    nullSql: nul('zip'),
    levels: [
      { label: 'exact', sql: 'l.zip = r.zip', tf: 'zip' },
      { label: 'dl<=1', sql: 'damerau_levenshtein(l.zip, r.zip) <= 1' },
    ],
  },
  {
    name: 'source_id',
    blockedBy: ['customer_id'],
    // Only informative when the same customer id appears in more than one source system.
    requires: ['customer_id', 'source_system'],
    nullSql: 'l.source_system = r.source_system',
    levels: [{ label: 'same-id-other-system', sql: 'l.customer_id = r.customer_id' }],
  },
];

/**
 * The household class (em.ts estimateHousehold) is fitted on, and applies to, the pairs whose street addresses agree
 * (exactly or within a typo): the people who could share a home.
 */
export const HOUSEHOLD = { field: 'address', minLevel: 'jw>=0.90' } as const;

export const BLOCKING_RULES: readonly BlockingRule[] = [
  { name: 'same_source_record', keys: ['source_system', 'customer_id'] },
  { name: 'email', keys: ['email_key'], train: true },
  { name: 'phone', keys: ['phone_e164'], train: true },
  { name: 'dob+surname_sdx', keys: ['dob', 'ln_sdx'], train: true },
  { name: 'dob+first_sdx', keys: ['dob', 'fn_sdx'], train: true },
  { name: 'names', keys: ['fn', 'ln'] },
  { name: 'names_swapped', keys: [], on: 'l.fn = r.ln AND l.ln = r.fn', uses: ['fn', 'ln'] },
  { name: 'postcode+surname_sdx', keys: ['zip', 'ln_sdx'], train: true },
  { name: 'dob+city', keys: ['dob', 'city'], train: true },
  { name: 'address+postcode', keys: ['addr', 'zip'], train: true },
  { name: 'email_local', keys: ['email_local'] },
  { name: 'source_id', keys: ['customer_id'], on: 'l.source_system <> r.source_system' },
  // Single-key rules catch records with several corrupted fields; on large inputs the comparison budget drops them.
  { name: 'dob', keys: ['dob'], train: true },
  { name: 'surname', keys: ['ln'] },
  { name: 'first_name', keys: ['fn'] },
  { name: 'postcode', keys: ['zip'], train: true },
  { name: 'city+surname_sdx', keys: ['city', 'ln_sdx'] },
];

/** First names that do not contradict each other (either missing, same canonical name, close spelling, swapped). */
const COMPATIBLE_FIRST_NAMES =
  '(l.fn IS NULL OR r.fn IS NULL OR jaro_winkler_similarity(l.fn_canon, r.fn_canon) >= 0.85 OR jaro_winkler_similarity(l.fn, r.fn) >= 0.8 OR (l.fn = r.ln AND l.ln = r.fn))';
/** Birth dates that do not contradict each other (either missing, or within two typed characters). */
const COMPATIBLE_BIRTH_DATES = '(l.dob IS NULL OR r.dob IS NULL OR damerau_levenshtein(l.dob_str, r.dob_str) <= 2)';
/** Phones that do not contradict each other (either missing, or the same subscriber number). */
const COMPATIBLE_PHONES = '(l.phone_e164 IS NULL OR r.phone_e164 IS NULL OR right(l.phone_e164, 7) = right(r.phone_e164, 7))';

/**
 * Deterministic rules: a pair satisfying one links with probability 1 (still subject to merge protection). Shared
 * emails and phones only count when names and birth dates (and, for email, phones) do not contradict them: households share a phone and
 * couples an email (j.smith@ for Jacob and James), and those pairs are left to the probabilistic model.
 */
export const DETERMINISTIC_RULES: readonly { name: string; sql: string; requires: readonly string[] }[] = [
  { name: 'same_source_record', sql: 'l.source_system = r.source_system AND l.customer_id = r.customer_id', requires: ['customer_id'] },
  { name: 'email', sql: `l.email_addr = r.email_addr AND ${COMPATIBLE_FIRST_NAMES} AND ${COMPATIBLE_BIRTH_DATES} AND ${COMPATIBLE_PHONES}`, requires: ['email_key'] },
  { name: 'phone', sql: `l.phone_e164 = r.phone_e164 AND ${COMPATIBLE_FIRST_NAMES} AND ${COMPATIBLE_BIRTH_DATES}`, requires: ['phone_e164'] },
];

/** gamma value of the i-th level (0-based, best first): best = number of levels, 'else' = 0, null = -1. */
export function gammaOf(c: Comparison, index: number): number {
  return c.levels.length - index;
}

export function levelLabel(c: Comparison, gamma: number): string {
  if (gamma < 0) return 'null';
  if (gamma === 0) return 'else';
  return c.levels[c.levels.length - gamma]!.label;
}
