// Standardisation of person records for matching. String work runs as DuckDB macros (fast, testable as SQL);
// phone parsing (libphonenumber-js) and Soundex run in TypeScript over distinct values and are joined back.
import type { Engine } from '../engine/duckdb.ts';
import { ident, lit } from '../engine/duckdb.ts';
import { FORMAT_PATTERNS } from '../../schemas/contract.ts';
import { PLACEHOLDER_PHONE_DIGITS, PLACEHOLDER_EMAIL_DOMAINS, PLACEHOLDER_EMAIL_LOCALS, PLACEHOLDER_EMAILS, PLACEHOLDER_NAMES, PLACEHOLDER_TEXT } from './blocklist.ts';
import { NICKNAMES } from './nicknames.ts';
import { toE164, regionOf } from './phone.ts';
import { soundex } from './phonetic.ts';
import { appendRows } from './append.ts';
import { standardiseAddress } from './address.ts';

/** Creates id_addr(raw, street, unit) for the distinct raw addresses the query returns (column raw). */
export async function addressTable(engine: Engine, distinctRawSql: string): Promise<void> {
  const reader = await engine.connection.runAndReadAll(distinctRawSql);
  const raws = reader.getColumnsJS()[0] ?? [];
  await engine.run('CREATE OR REPLACE TABLE id_addr (raw VARCHAR, street VARCHAR, unit VARCHAR)');
  await appendRows(engine, 'id_addr', raws.map((r) => {
    const a = standardiseAddress(String(r));
    return [String(r), a.street, a.unit];
  }));
}

/**
 * NANP fast path, in SQL: a North American number written with only digits and ( ) - . space, optionally led by
 * +1 or 1, with valid area-code and exchange lead digits, in a US/CA (or unknown-country) record. libphonenumber
 * gives the same E.164 for these (a test holds the two together); everything else goes through libphonenumber.
 */
export function nanpFastPathSql(raw: string, country: string): string {
  const digits = `regexp_replace(${raw}, '[^0-9]', '', 'g')`;
  const national = `CASE WHEN length(${digits}) = 11 AND left(${digits}, 1) = '1' THEN right(${digits}, 10) WHEN length(${digits}) = 10 AND NOT starts_with(trim(${raw}), '+') THEN ${digits} END`;
  return `CASE WHEN (${country} IS NULL OR upper(${country}) IN ('US', 'USA', 'CA', 'CAN'))
    AND regexp_full_match(trim(${raw}), '\\+?[0-9 ().-]+')
    AND regexp_full_match(coalesce(${national}, ''), '[2-9][0-9]{2}[2-9][0-9]{6}')
    THEN ${national} END`;
}

/** Creates id_phone(raw, country, e164, valid, placeholder) for distinct (raw, country) pairs (columns raw, country). */
export async function phoneTable(engine: Engine, distinctSql: string): Promise<void> {
  const placeholders = list([...PLACEHOLDER_PHONE_DIGITS]);
  await engine.run(`CREATE OR REPLACE TEMP TABLE id_phone_in AS SELECT raw, country, ${nanpFastPathSql('raw', 'country')} AS nanp FROM (${distinctSql})`);
  await engine.run('CREATE OR REPLACE TABLE id_phone (raw VARCHAR, country VARCHAR, e164 VARCHAR, valid BOOLEAN, placeholder BOOLEAN)');
  // valid is left null on the fast path: it needs libphonenumber's range tables and no comparison uses it.
  await engine.run(`INSERT INTO id_phone SELECT raw, country,
      CASE WHEN NOT (list_contains(${placeholders}, nanp) OR replace(nanp, left(nanp, 1), '') = '') THEN '+1' || nanp END,
      NULL,
      list_contains(${placeholders}, nanp) OR replace(nanp, left(nanp, 1), '') = ''
    FROM id_phone_in WHERE nanp IS NOT NULL`);
  const reader = await engine.connection.runAndReadAll('SELECT raw, country FROM id_phone_in WHERE nanp IS NULL');
  const [raws = [], countries = []] = reader.getColumnsJS();
  await appendRows(engine, 'id_phone', raws.map((raw, i) => {
    const country = countries[i] == null ? null : String(countries[i]);
    const r = toE164(String(raw), regionOf(country));
    return [String(raw), country, r.e164, r.valid, r.placeholder];
  }));
  await engine.run('DROP TABLE id_phone_in');
}

const list = (values: readonly string[]) => `[${values.map(lit).join(', ')}]`;

/** Providers where '+tag' is an alias of the same mailbox. Gmail also ignores dots in the local part. */
export const PLUS_TAG_DOMAINS = ['gmail.com', 'outlook.com', 'hotmail.com', 'live.com', 'icloud.com', 'me.com', 'fastmail.com', 'protonmail.com', 'proton.me'];

const DATE_FORMATS = ['%Y-%m-%d', '%Y%m%d', '%Y/%m/%d', '%d/%m/%Y', '%m/%d/%Y', '%d.%m.%Y', '%Y-%m-%d %H:%M:%S', '%Y-%m-%dT%H:%M:%S'];

/** The DuckDB macros behind every standardiser. Idempotent (CREATE OR REPLACE). */
export function macroSql(): string[] {
  return [
    // Free text folded for comparison: lower-case ASCII, punctuation to spaces, single spaces; placeholders to null.
    `CREATE OR REPLACE MACRO c360_fold(s) AS (
      CASE WHEN list_contains(${list(PLACEHOLDER_TEXT)}, c360_fold_raw(s)) THEN NULL ELSE c360_fold_raw(s) END)`,
    // A name as a match key: letters only (so "jac ob" = "jacob", "o'neil" = "oneil"); placeholder names to null.
    `CREATE OR REPLACE MACRO c360_name_key(s) AS (
      CASE WHEN list_contains(${list(PLACEHOLDER_NAMES.map((n) => n.replace(/[^a-z]/g, '')))}, regexp_replace(lower(strip_accents(CAST(s AS VARCHAR))), '[^a-z]', '', 'g'))
        THEN NULL ELSE nullif(regexp_replace(lower(strip_accents(CAST(s AS VARCHAR))), '[^a-z]', '', 'g'), '') END)`,
    `CREATE OR REPLACE MACRO c360_email_norm(s) AS (
      CASE WHEN regexp_full_match(lower(trim(CAST(s AS VARCHAR))), ${lit(FORMAT_PATTERNS.email)}) THEN lower(trim(CAST(s AS VARCHAR))) END)`,
    `CREATE OR REPLACE MACRO c360_email_placeholder(e) AS (
      e IS NOT NULL AND (list_contains(${list(PLACEHOLDER_EMAIL_LOCALS)}, split_part(e, '@', 1))
        OR list_contains(${list(PLACEHOLDER_EMAIL_DOMAINS)}, split_part(e, '@', 2))
        OR list_contains(${list(PLACEHOLDER_EMAILS)}, e)
        OR replace(split_part(e, '@', 1), left(e, 1), '') = ''))`,
    `CREATE OR REPLACE MACRO c360_email_domain(d) AS (CASE WHEN d = 'googlemail.com' THEN 'gmail.com' ELSE d END)`,
    `CREATE OR REPLACE MACRO c360_email_local_key(l, d) AS (
      CASE WHEN d = 'gmail.com' THEN replace(regexp_replace(l, '\\+.*$', ''), '.', '')
           WHEN list_contains(${list(PLUS_TAG_DOMAINS)}, d) THEN regexp_replace(l, '\\+.*$', '')
           ELSE l END)`,
    // The provider-specific match key; the normalised address itself is never rewritten.
    `CREATE OR REPLACE MACRO c360_email_key(e) AS (
      CASE WHEN e IS NULL THEN NULL ELSE
        c360_email_local_key(split_part(e, '@', 1), c360_email_domain(split_part(e, '@', 2))) || '@' || c360_email_domain(split_part(e, '@', 2)) END)`,
    // Postcodes: upper-case alphanumerics; US ZIP+4 reduced to the 5-digit ZIP.
    `CREATE OR REPLACE MACRO c360_postcode(s, country) AS (
      CASE WHEN regexp_full_match(regexp_replace(upper(CAST(s AS VARCHAR)), '[^A-Z0-9]', '', 'g'), '[0-9]{9}') AND coalesce(upper(country), 'US') IN ('US', 'USA')
           THEN left(regexp_replace(CAST(s AS VARCHAR), '[^0-9]', '', 'g'), 5)
           ELSE nullif(regexp_replace(upper(CAST(s AS VARCHAR)), '[^A-Z0-9]', '', 'g'), '') END)`,
    // Dates in the common layouts; implausible birth dates (before 1900 or in the future) become null.
    `CREATE OR REPLACE MACRO c360_date(s) AS (
      coalesce(TRY_CAST(trim(CAST(s AS VARCHAR)) AS DATE), CAST(try_strptime(trim(CAST(s AS VARCHAR)), ${list(DATE_FORMATS)}) AS DATE)))`,
    `CREATE OR REPLACE MACRO c360_birth_date(s) AS (
      CASE WHEN c360_date(s) BETWEEN DATE '1900-01-01' AND current_date THEN c360_date(s) END)`,
  ];
}

/** c360_fold_raw must exist before c360_fold (macros bind at creation). */
function foldRawSql(): string {
  return `CREATE OR REPLACE MACRO c360_fold_raw(s) AS (
    nullif(regexp_replace(trim(regexp_replace(lower(strip_accents(CAST(s AS VARCHAR))), '[^a-z0-9 ]', ' ', 'g')), '\\s+', ' ', 'g'), ''))`;
}

/** Engines holding the macros and the nickname table (they never change: one install per engine). */
const installed = new WeakSet<Engine>();

export async function installMacros(engine: Engine): Promise<void> {
  if (installed.has(engine)) return;
  await engine.run(foldRawSql());
  for (const sql of macroSql()) await engine.run(sql);
  await engine.run('CREATE OR REPLACE TABLE id_nick (name VARCHAR, canonical VARCHAR)');
  await appendRows(engine, 'id_nick', [...NICKNAMES].map(([n, c]) => [n, c]));
  installed.add(engine);
}

/** CUSTOMERS columns the matcher reads; any subset may be present. */
export const MATCH_INPUT_COLUMNS = [
  'CUSTOMER_ID', 'SOURCE_SYSTEM', 'TENANT_ID', 'FIRST_NAME', 'LAST_NAME', 'EMAIL_ADDRESS', 'PHONE_NUMBER', 'DATE_OF_BIRTH',
  'GENDER', 'ADDRESS_LINE_1', 'CITY', 'STATE_CODE', 'ZIP_CODE', 'COUNTRY_CODE',
] as const;

/** The standardised-record columns (table `id_std`) that comparisons and blocking rules use. */
export function standardiseSql(input: string, present: ReadonlySet<string>, tenant: string): string {
  const col = (name: string) => (present.has(name) ? `CAST(i.${ident(name)} AS VARCHAR)` : 'NULL::VARCHAR');
  return `CREATE OR REPLACE TABLE id_std_base AS
SELECT
  i.rid,
  coalesce(nullif(trim(${col('TENANT_ID')}), ''), ${lit(tenant)}) AS tenant_id,
  coalesce(nullif(trim(${col('SOURCE_SYSTEM')}), ''), 'DEFAULT') AS source_system,
  coalesce(nullif(trim(${col('CUSTOMER_ID')}), ''), CAST(i.rid + 1 AS VARCHAR)) AS customer_id,
  c360_name_key(${col('FIRST_NAME')}) AS fn,
  c360_name_key(${col('LAST_NAME')}) AS ln,
  c360_email_norm(${col('EMAIL_ADDRESS')}) AS email_norm,
  ${col('PHONE_NUMBER')} AS phone_raw,
  c360_birth_date(${col('DATE_OF_BIRTH')}) AS dob,
  ${col('ADDRESS_LINE_1')} AS addr_raw,
  c360_fold(${col('CITY')}) AS city,
  upper(c360_fold(${col('STATE_CODE')})) AS state,
  c360_postcode(${col('ZIP_CODE')}, ${col('COUNTRY_CODE')}) AS zip,
  upper(nullif(trim(${col('COUNTRY_CODE')}), '')) AS country,
  upper(left(nullif(trim(${col('GENDER')}), ''), 1)) AS gender
FROM ${input} i`;
}

/** Joins the TypeScript-computed columns back and adds match keys and term frequencies. */
export function finishStandardiseSql(extraBlocked: readonly string[] = []): string {
  const blocked = extraBlocked.length ? list(extraBlocked.map((v) => v.trim().toLowerCase())) : "['']";
  return `CREATE OR REPLACE TABLE id_std_tf AS
WITH s AS (
  SELECT b.*,
    CASE WHEN c360_email_placeholder(b.email_norm) OR list_contains(${blocked}, b.email_norm) THEN NULL ELSE c360_email_key(b.email_norm) END AS email_key,
    c360_email_placeholder(b.email_norm) AS email_placeholder,
    CASE WHEN list_contains(${blocked}, p.e164) THEN NULL ELSE p.e164 END AS phone_e164,
    coalesce(p.placeholder, false) AS phone_placeholder,
    coalesce(nf.canonical, b.fn) AS fn_canon,
    sf.code AS fn_sdx,
    sl.code AS ln_sdx,
    strftime(b.dob, '%Y%m%d') AS dob_str,
    ad.street AS addr,
    ad.unit AS addr_unit
  FROM id_std_base b
  LEFT JOIN id_addr ad ON ad.raw = b.addr_raw
  LEFT JOIN id_phone p ON p.raw = b.phone_raw AND p.country IS NOT DISTINCT FROM b.country
  LEFT JOIN id_nick nf ON nf.name = b.fn
  LEFT JOIN id_sdx sf ON sf.name = b.fn
  LEFT JOIN id_sdx sl ON sl.name = b.ln
)
SELECT s.* EXCLUDE (phone_raw, addr_raw),
  split_part(email_key, '@', 1) AS email_local,
  -- The address as its owner typed it (case and plus tags aside): provider keys fold Gmail dots, and two different
  -- spellings of one Gmail key are weaker evidence than one address.
  CASE WHEN email_key IS NOT NULL THEN regexp_replace(split_part(email_norm, '@', 1), '\\+.*$', '') || '@' || split_part(email_key, '@', 2) END AS email_addr
FROM s`;
}

export const TF_COLUMNS = ['fn', 'ln', 'city', 'zip', 'email_key', 'email_addr', 'email_local', 'dob', 'addr'] as const;

/**
 * Adds tf_<col>: the share of the tenant's records holding that value, so a common surname counts for less than a
 * rare one. Grouped counts joined back (cheaper than one window partition per column).
 */
export function termFrequencySql(columns: readonly string[] = TF_COLUMNS): string {
  const joins = columns.map(
    (c, i) => `LEFT JOIN (SELECT tenant_id, ${c}, count(*) AS n FROM id_std_tf WHERE ${c} IS NOT NULL GROUP BY ALL) t${i} ON t${i}.tenant_id = s.tenant_id AND t${i}.${c} = s.${c}`,
  );
  return `CREATE OR REPLACE TABLE id_std AS
SELECT s.*, ${columns.map((c, i) => `t${i}.n / tot.n AS tf_${c}`).join(', ')}
FROM id_std_tf s
JOIN (SELECT tenant_id, count(*)::DOUBLE AS n FROM id_std_tf GROUP BY ALL) tot ON tot.tenant_id = s.tenant_id
${joins.join('\n')}
ORDER BY s.rid`;
}

/**
 * Builds `id_std` from a table of CUSTOMERS-shaped rows with an integer `rid` column (0..n-1, unique).
 * Columns outside MATCH_INPUT_COLUMNS are ignored; missing ones are null.
 */
export async function standardise(engine: Engine, input: string, options: { tenant?: string; blocklist?: readonly string[]; termFrequencies?: boolean } = {}): Promise<void> {
  await installMacros(engine);
  const cols = await engine.all<{ column_name: string }>(`SELECT column_name FROM (DESCRIBE ${input})`);
  const present = new Set(cols.map((c) => c.column_name.toUpperCase()).filter((c) => (MATCH_INPUT_COLUMNS as readonly string[]).includes(c)));
  // DESCRIBE returns the stored case; contract names are upper-case, so only upper-case names are used.
  await engine.run(standardiseSql(input, present, options.tenant ?? 'default'));

  // Phones and addresses: each distinct value is standardised once in TypeScript.
  await phoneTable(engine, 'SELECT DISTINCT phone_raw AS raw, country FROM id_std_base WHERE phone_raw IS NOT NULL');
  await addressTable(engine, 'SELECT DISTINCT addr_raw AS raw FROM id_std_base WHERE addr_raw IS NOT NULL');

  const names = await engine.all<{ name: string }>('SELECT DISTINCT fn AS name FROM id_std_base WHERE fn IS NOT NULL UNION SELECT DISTINCT ln FROM id_std_base WHERE ln IS NOT NULL');
  await engine.run('CREATE OR REPLACE TABLE id_sdx (name VARCHAR, code VARCHAR)');
  await appendRows(engine, 'id_sdx', names.map((n) => [n.name, soundex(n.name)]));

  await engine.run(finishStandardiseSql(options.blocklist));
  await engine.run('DROP TABLE id_std_base');
  if (options.termFrequencies === false) {
    // The caller brings its own term frequencies (an incremental batch takes them from the whole graph).
    await engine.run('DROP TABLE IF EXISTS id_std');
    await engine.run('ALTER TABLE id_std_tf RENAME TO id_std');
    return;
  }
  await engine.run(termFrequencySql());
  await engine.run('DROP TABLE id_std_tf');
}
