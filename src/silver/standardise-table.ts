// Contract-driven Silver standardisation of one table: dedupe Bronze by primary key (latest _ingested_at wins, then
// the greatest _record_hash), cleanse every column by its contract (trim, empty to null, enums
// and codes upper-cased, campaign ids canonicalised), and collect per-record data-quality flags (`COLUMN:CODE`).
// CUSTOMERS also gets the match-key columns identity resolution uses (email, phone, name, address standards).
import { FORMAT_PATTERNS, type ColumnDef, type TableContract } from '../../schemas/contract.ts';
import { duckdbType } from '../contracts/duckdb-types.ts';
import { ident, lit } from '../engine/duckdb.ts';

/** The column's DuckDB type, as Bronze stores it (one mapping, in src/contracts/duckdb-types.ts). */
export function duckType(c: ColumnDef): string {
  return duckdbType(c.type);
}

const isText = (c: ColumnDef) => c.type.kind === 'varchar' || c.type.kind === 'text';

/** Campaign ids: trimmed, upper-case, inner whitespace removed, underscores as dashes ("cmp_0001 " -> "CMP-0001"). */
export function campaignIdSql(expr: string): string {
  return `nullif(replace(upper(regexp_replace(trim(${expr}), '\\s+', '', 'g')), '_', '-'), '')`;
}

/** The standardised value of one column, read from relation alias `b`. */
export function cleanseSql(c: ColumnDef, present: boolean): string {
  const type = duckType(c);
  if (!present) return `CAST(NULL AS ${type})`;
  const col = `TRY_CAST(b.${ident(c.name)} AS ${type})`;
  if (!isText(c)) return col;
  const raw = `nullif(trim(CAST(b.${ident(c.name)} AS VARCHAR)), '')`;
  if (c.name === 'CAMPAIGN_ID') return campaignIdSql(`CAST(b.${ident(c.name)} AS VARCHAR)`);
  if (c.enum || c.format === 'country_code' || c.format === 'currency_code' || c.format === 'state_code') return `upper(${raw})`;
  return raw;
}

/** Flag expressions (each yields 'COLUMN:CODE' or null) for one cleansed column `s.<name>`. */
export function columnFlagSql(c: ColumnDef): string[] {
  const v = `s.${ident(c.name)}`;
  const flags: string[] = [];
  const flag = (cond: string, code: string) => flags.push(`CASE WHEN ${cond} THEN ${lit(`${c.name}:${code}`)} END`);
  if (c.required) flag(`${v} IS NULL`, 'REQUIRED');
  if (c.enum) flag(`${v} IS NOT NULL AND NOT list_contains(${`[${c.enum.map(lit).join(', ')}]`}, ${v})`, 'ENUM');
  if (c.min !== undefined) flag(`${v} < ${c.min}`, 'RANGE');
  if (c.max !== undefined) flag(`${v} > ${c.max}`, 'RANGE');
  if (c.format && c.format !== 'json_array') flag(`${v} IS NOT NULL AND NOT regexp_full_match(CAST(${v} AS VARCHAR), ${lit(FORMAT_PATTERNS[c.format])})`, 'FORMAT');
  if (c.format === 'json_array') flag(`${v} IS NOT NULL AND json_array_length(TRY_CAST(${v} AS JSON)) IS NULL`, 'FORMAT');
  if (c.type.kind === 'varchar') flag(`length(CAST(${v} AS VARCHAR)) > ${c.type.length}`, 'TOO_LONG');
  return flags;
}

/** Extra standardisation columns for CUSTOMERS (needs the identity macros and the id_phone, id_nick, id_addr tables). */
export const CUSTOMER_EXTRA_COLUMNS = [
  'SOURCE_SYSTEM', 'EMAIL_NORMALIZED', 'EMAIL_MATCH_KEY', 'EMAIL_IS_PLACEHOLDER', 'PHONE_E164', 'PHONE_IS_PLACEHOLDER',
  'FIRST_NAME_KEY', 'FIRST_NAME_CANONICAL', 'LAST_NAME_KEY', 'ADDRESS_STD', 'ADDRESS_UNIT', 'ZIP_STD', 'DATE_OF_BIRTH_VALID',
] as const;

function customerExtrasSql(): string[] {
  return [
    's._source_system AS SOURCE_SYSTEM',
    'c360_email_norm(s.EMAIL_ADDRESS) AS EMAIL_NORMALIZED',
    'CASE WHEN NOT c360_email_placeholder(c360_email_norm(s.EMAIL_ADDRESS)) THEN c360_email_key(c360_email_norm(s.EMAIL_ADDRESS)) END AS EMAIL_MATCH_KEY',
    'coalesce(c360_email_placeholder(c360_email_norm(s.EMAIL_ADDRESS)), false) AS EMAIL_IS_PLACEHOLDER',
    'p.e164 AS PHONE_E164',
    'coalesce(p.placeholder, false) AS PHONE_IS_PLACEHOLDER',
    'c360_name_key(s.FIRST_NAME) AS FIRST_NAME_KEY',
    'coalesce(nk.canonical, c360_name_key(s.FIRST_NAME)) AS FIRST_NAME_CANONICAL',
    'c360_name_key(s.LAST_NAME) AS LAST_NAME_KEY',
    'ad.street AS ADDRESS_STD',
    'ad.unit AS ADDRESS_UNIT',
    'c360_postcode(s.ZIP_CODE, s.COUNTRY_CODE) AS ZIP_STD',
    'c360_birth_date(s.DATE_OF_BIRTH) IS NOT NULL OR s.DATE_OF_BIRTH IS NULL AS DATE_OF_BIRTH_VALID',
  ];
}

function customerFlagsSql(): string[] {
  return [
    `CASE WHEN c360_email_placeholder(c360_email_norm(s.EMAIL_ADDRESS)) THEN 'EMAIL_ADDRESS:PLACEHOLDER' END`,
    `CASE WHEN s.EMAIL_ADDRESS IS NOT NULL AND c360_email_norm(s.EMAIL_ADDRESS) IS NULL THEN 'EMAIL_ADDRESS:FORMAT' END`,
    `CASE WHEN p.placeholder THEN 'PHONE_NUMBER:PLACEHOLDER' END`,
    `CASE WHEN s.PHONE_NUMBER IS NOT NULL AND p.e164 IS NULL AND NOT coalesce(p.placeholder, false) THEN 'PHONE_NUMBER:UNPARSEABLE' END`,
    `CASE WHEN s.DATE_OF_BIRTH IS NOT NULL AND c360_birth_date(s.DATE_OF_BIRTH) IS NULL THEN 'DATE_OF_BIRTH:RANGE' END`,
  ];
}

export interface StagingOptions {
  /** Parquet files (local paths) of the table's Bronze. */
  files: readonly string[];
  /** Columns present in those files. */
  present: ReadonlySet<string>;
  loadId: string;
}

/** Primary-key columns Silver deduplicates on; CUSTOMERS are keyed within their source system. */
export function dedupeKey(contract: TableContract): string[] {
  return contract.name === 'CUSTOMERS' ? ['_source_system', ...contract.primaryKey] : [...contract.primaryKey];
}

/**
 * The staged Silver rows of one table: contract columns (cleansed), CUSTOMERS extras, lineage, `_dq_flags` and
 * `_completeness` (share of contract columns with a value). Reads `bronze_src` (a view over the Bronze files).
 */
export function stagingSql(contract: TableContract, options: Omit<StagingOptions, 'files'>): string {
  const has = (n: string) => options.present.has(n);
  const key = dedupeKey(contract).map((k) => `b.${ident(k)}`).join(', ');
  const order = [has('_ingested_at') ? 'b._ingested_at DESC' : null, has('_record_hash') ? 'b._record_hash DESC' : null].filter(Boolean).join(', ') || '1';
  const cols = contract.columns.map((c) => `${cleanseSql(c, has(c.name))} AS ${ident(c.name)}`);
  const isCustomers = contract.name === 'CUSTOMERS';
  const flags = [...contract.columns.flatMap(columnFlagSql), ...(isCustomers ? customerFlagsSql() : [])];
  const completeness = contract.columns.map((c) => `(CASE WHEN s.${ident(c.name)} IS NULL THEN 0 ELSE 1 END)`).join(' + ');
  const src = has('_source_system') ? 'b._source_system' : lit(contract.sourceSystem);
  return `WITH d AS (
  SELECT b.*, row_number() OVER (PARTITION BY ${key} ORDER BY ${order}) AS _rn FROM bronze_src b
),
s AS (
  SELECT ${cols.join(',\n    ')},
    CAST(${src} AS VARCHAR) AS _source_system,
    ${has('_load_id') ? 'CAST(b._load_id AS VARCHAR)' : 'NULL::VARCHAR'} AS _bronze_load_id,
    ${has('_ingested_at') ? 'CAST(b._ingested_at AS TIMESTAMP)' : 'NULL::TIMESTAMP'} AS _ingested_at,
    ${has('_record_hash') ? 'CAST(b._record_hash AS VARCHAR)' : 'NULL::VARCHAR'} AS _bronze_record_hash,
    ${lit(options.loadId)} AS _load_id
  FROM d b WHERE _rn = 1
)
SELECT s.*,
  ${isCustomers ? customerExtrasSql().join(',\n  ') + ',' : ''}
  list_filter([${flags.join(',\n    ')}]::VARCHAR[], x -> x IS NOT NULL) AS _dq_flags,
  (${completeness}) / ${contract.columns.length}.0 AS _completeness
FROM s${isCustomers ? `
LEFT JOIN id_phone p ON p.raw = s.PHONE_NUMBER AND p.country IS NOT DISTINCT FROM upper(s.COUNTRY_CODE)
LEFT JOIN id_nick nk ON nk.name = c360_name_key(s.FIRST_NAME)
LEFT JOIN id_addr ad ON ad.raw = s.ADDRESS_LINE_1` : ''}`;
}

/** Per-record quality score in [0, 1]: 30% completeness, 70% validity; each flag costs a quarter of validity. */
export function qualityScoreSql(completeness = '_completeness', flags = '_dq_flags'): string {
  return `round(0.3 * ${completeness} + 0.7 * greatest(0.0, 1.0 - 0.25 * len(${flags})), 4)`;
}

/** Bronze duplicates: rows sharing a dedupe key beyond the first. */
export function duplicateCountSql(contract: TableContract): string {
  const key = dedupeKey(contract).map((k) => ident(k)).join(', ');
  return `SELECT coalesce(sum(n - 1), 0) FROM (SELECT count(*) AS n FROM bronze_src GROUP BY ${key})`;
}
