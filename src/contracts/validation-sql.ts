// Validation as SQL generated from a contract: the Bronze hot path. Every record arrives as all-VARCHAR under its
// received column names; these builders produce DuckDB expressions over those names. Pure text, so the rules are
// testable without an engine and identical wherever the SQL runs (batch files, Event Hubs micro-batches).
import { FORMAT_PATTERNS, REASON, type ColumnDef, type TableContract } from '../../schemas/contract.ts';
import { ident, lit } from '../engine/duckdb.ts';
import { duckdbType } from './duckdb-types.ts';

/** A contract column and the received column that feeds it (absent: the drop lacks the column). */
export interface BoundColumn {
  column: ColumnDef;
  received?: string;
}

export interface Binding {
  bound: BoundColumn[];
  /** Received columns that are not in the contract, in received order (kept in Bronze as VARCHAR). */
  extras: string[];
}

/** Matches received column names to contract columns: exact name first, then case-insensitive after trim. */
export function bindColumns(contract: TableContract, received: readonly string[]): Binding {
  const used = new Set<string>();
  const bound = contract.columns.map((column) => {
    let match = received.find((r) => r === column.name && !used.has(r));
    match ??= received.find((r) => r.trim().toUpperCase() === column.name && !used.has(r));
    if (match !== undefined) used.add(match);
    return { column, received: match };
  });
  return { bound, extras: received.filter((r) => !used.has(r)) };
}

/**
 * The normalised value of a received field: trimmed (spaces, as DuckDB's TRIM), empty string = null. TRIM only runs
 * when an edge is a space: TRIM on every field is the single most expensive step of validation otherwise.
 * `emptyIsNull`: the reader already yields null for an empty field (DuckDB's CSV reader), so only a trimmed value
 * can become empty.
 */
export function valueSql(received: string | undefined, emptyIsNull = false): string {
  if (received === undefined) return 'CAST(NULL AS VARCHAR)';
  const c = ident(received);
  return `CASE WHEN prefix(${c}, ' ') OR suffix(${c}, ' ') THEN NULLIF(TRIM(${c}), '') ELSE ${emptyIsNull ? c : `NULLIF(${c}, '')`} END`;
}

const DATE_PATTERN = '^[0-9]{4}-[0-9]{2}-[0-9]{2}$';

/**
 * A timestamp field as a UTC TIMESTAMP, or null when it is not one. Parsed as TIMESTAMPTZ so offsets land in UTC;
 * epoch microseconds back to TIMESTAMP, since CAST(TIMESTAMPTZ AS TIMESTAMP) goes through ICU calendars (4x the
 * cost) and the session zone is UTC anyway. Years outside 1..9999 (the SQL and Snowflake range) and +-infinity are
 * null, so they are TYPE failures; the guard also keeps values near the largest timestamp away from the
 * TIMESTAMPTZ cast, which throws for them instead of yielding null (DuckDB 1.5, ICU).
 */
export function timestampSql(v: string): string {
  // The TIMESTAMP cast fails (null) exactly for values naming a zone (`... Europe/Paris`): only those pay for namedZoneSql.
  return `CASE WHEN coalesce(TRY_CAST(${v} AS TIMESTAMP) BETWEEN TIMESTAMP '0001-01-01' AND TIMESTAMP '9999-12-31 23:59:59.999999', ${namedZoneSql(v)}) AND NOT ${subMicrosecondSql(v)} THEN make_timestamp(epoch_us(TRY_CAST(${v} AS TIMESTAMPTZ))) END`;
}

/**
 * Whether a local time in a named zone (`2026-03-29 02:30:00 Europe/Paris`) names exactly one instant. DuckDB converts
 * a time in the spring-forward gap (it does not exist there) and one in the repeated fall-back hour (it exists twice)
 * without a word; Bronze refuses both as TYPE instead of guessing: the sender knows the offset. The local part must
 * come back from the instant DuckDB chose (else a gap), and no instant 30 min, 1 h or 2 h (the DST shifts in use)
 * either side may show the same local time (else ambiguous). A value this cannot take apart is TYPE too (TRY: an
 * unknown zone makes timezone() throw).
 */
export function namedZoneSql(v: string): string {
  const re = lit('^(.*[0-9.])[ ]*([A-Za-z][A-Za-z0-9/_+-]*)$');
  // One lambda over the parsed parts: each is computed once, and no repeated subexpression can be hoisted out of
  // TRY (the optimiser's common-subexpression pass would evaluate it for every value, where a cast near the largest
  // timestamp throws); the parameter's name is internal, so no received column (`X`) shadows it. `u IS NOT NULL`
  // first: DuckDB parsed the zone, so timezone() knows it (it throws otherwise).
  const parts = `{u: TRY_CAST(${v} AS TIMESTAMPTZ), l: TRY_CAST(regexp_extract(${v}, ${re}, 1) AS TIMESTAMP), z: regexp_extract(${v}, ${re}, 2)}`;
  const other = ['30 minutes', '1 hour', '2 hours'].flatMap((d) => ['-', '+'].map((s) => `timezone(__c360_z.z, __c360_z.u ${s} INTERVAL ${d}) = __c360_z.l`));
  const unique = `__c360_z.u IS NOT NULL AND __c360_z.l IS NOT NULL AND timezone(__c360_z.z, __c360_z.u) = __c360_z.l AND NOT (${other.join(' OR ')})`;
  return `CASE WHEN regexp_full_match(${v}, ${re}) THEN coalesce(TRY(list_transform([${parts}], __c360_z -> ${unique})[1]), false) ELSE false END`;
}

/**
 * Whether a timestamp's fraction of a second goes past microseconds (Bronze's precision) with a digit other than 0:
 * DuckDB's cast cuts `.1234567` to `.123456`, a silent change of the value, so such a value is a TYPE problem like a
 * number beyond its scale (`.1234560` is exact and kept). The regex runs only on values holding a point.
 */
export function subMicrosecondSql(v: string): string {
  return `(contains(${v}, '.') AND regexp_matches(${v}, '[.][0-9]{6}0*[1-9]'))`;
}

/** TRY_CAST of a normalised value to the column's type (timestamps: timestampSql). */
export function tryCastSql(column: ColumnDef, v: string): string {
  if (column.type.kind === 'timestamp') return timestampSql(v);
  const cast = `TRY_CAST(${v} AS ${duckdbType(column.type)})`;
  if (column.type.kind === 'integer') return exactSql(cast, v, 0);
  if (column.type.kind === 'decimal') return exactSql(cast, v, column.type.scale);
  return cast;
}

/**
 * A numeric cast that never rounds nor reads anything but a decimal number: TRY_CAST rounds '12.555' into
 * DECIMAL(12,2) (12.56) and '1.5' (or a Parquet FLOAT 1.7, read as text) into INTEGER (2), and reads '0x10' as 16 and
 * '1_000' as 1000. A value is kept only when it is plain decimal digits (sign and point allowed) whose digits after
 * the point, trailing zeros aside, fit the scale (`3.0` is 3; `12.550` is 12.55), or the same with an exponent whose
 * value has no more digits after the point than the scale (`1.5e1` is 15, `1e-30` is not 0); otherwise it is null, a
 * TYPE problem. One RE2 full match per value: a DECIMAL(38,18) comparison per value doubled Bronze's CPU time, and
 * trimming zeros off every value cost twice what the match does. The exponent form is rare; its test is exact.
 */
function exactSql(cast: string, v: string, scale: number): string {
  const plain = lit(`[+-]?[0-9]*([.][0-9]{0,${scale}}0*)?`);
  const re = lit('^[+-]?([0-9]*)(?:[.]([0-9]*))?[eE]([+-]?[0-9]+)$');
  const g = (n: number) => `regexp_extract(${v}, ${re}, ${n})`;
  const digits = `(${g(1)} || ${g(2)})`;
  // Digits after the point of mantissa x 10^exponent: those of the mantissa, less its trailing zeros, less the exponent.
  const exponentExact = `(regexp_full_match(${v}, ${re}) AND (ltrim(${digits}, '0') = '' OR strlen(${g(2)}) - (strlen(${digits}) - strlen(rtrim(${digits}, '0'))) - TRY_CAST(${g(3)} AS BIGINT) <= ${scale}))`;
  return `CASE WHEN regexp_full_match(${v}, ${plain}) THEN ${cast} WHEN (contains(${v}, 'e') OR contains(${v}, 'E')) AND ${exponentExact} THEN ${cast} END`;
}

/** The contract's enum values (canonical upper case, each once: an ENUM type rejects repeats) as a DuckDB ENUM type. */
const enumTypeSql = (column: ColumnDef): string => `ENUM(${[...new Set((column.enum ?? []).map((e) => e.toUpperCase()))].map(lit).join(', ')})`;

/**
 * An enum field as its canonical value (a DuckDB ENUM, written to Parquet as text), or null when it is none of the
 * values in any case. A cast to ENUM is a dictionary lookup, far cheaper than searching a list; the UPPER cast only
 * runs where the exact one found nothing (coalesce evaluates lazily).
 */
export function enumCastSql(column: ColumnDef, v: string): string {
  const type = enumTypeSql(column);
  return `coalesce(TRY_CAST(${v} AS ${type}), TRY_CAST(UPPER(${v}) AS ${type}))`;
}

export interface Check {
  code: string;
  /** True when the field has this problem; never null for a problem (CASE WHEN treats null as no problem). */
  sql: string;
}

/**
 * The checks of one column over its normalised value expression `v`, in reporting order. `t` is the expression of
 * its TRY_CAST (tryCastSql) when the caller has it computed already; `e` likewise the canonical enum value
 * (enumCastSql), which is also the Bronze value.
 */
export function columnChecks(column: ColumnDef, v: string, present = true, t?: string, e?: string): Check[] {
  const checks: Check[] = [];
  if (column.required) checks.push({ code: REASON.REQUIRED, sql: present ? `${v} IS NULL` : 'true' });
  // A missing optional column cannot break any other rule.
  if (!present) return checks;
  const type = column.type;
  const x = t ?? tryCastSql(column, v);
  if (type.kind !== 'varchar' && type.kind !== 'text') {
    let bad = `${x} IS NULL`;
    if (type.kind === 'date') bad = `(NOT regexp_full_match(${v}, ${lit(DATE_PATTERN)}) OR ${bad})`;
    checks.push({ code: REASON.TYPE, sql: `(${v} IS NOT NULL AND ${bad})` });
  }
  // Byte length bounds character length, so the UTF-8 character count only runs on long values.
  if (type.kind === 'varchar') checks.push({ code: REASON.TOO_LONG, sql: `(strlen(${v}) > ${type.length} AND length(${v}) > ${type.length})` });
  if (column.enum) checks.push({ code: REASON.ENUM, sql: `(${v} IS NOT NULL AND ${e ?? enumCastSql(column, v)} IS NULL)` });
  if (column.min !== undefined || column.max !== undefined) {
    // TRY_CAST is null for a TYPE failure, so a value that fails TYPE never also fails RANGE.
    const parts: string[] = [];
    if (column.min !== undefined) parts.push(`${x} < ${column.min}`);
    if (column.max !== undefined) parts.push(`${x} > ${column.max}`);
    checks.push({ code: REASON.RANGE, sql: `(${parts.join(' OR ')})` });
  }
  if (column.format === 'json_array') {
    checks.push({ code: REASON.FORMAT, sql: `(${v} IS NOT NULL AND coalesce(json_type(TRY_CAST(${v} AS JSON)), '') <> 'ARRAY')` });
  } else if (column.format) {
    checks.push({ code: REASON.FORMAT, sql: `NOT regexp_full_match(${v}, ${lit(FORMAT_PATTERNS[column.format])})` });
  }
  return checks;
}

/**
 * All problems of a record as one comma-separated string of `COLUMN:CODE` ('' = valid). concat_ws skips the nulls
 * of passing checks, which keeps the common all-valid row cheap; split with string_split for the `_reasons` list.
 */
export function reasonsSql(
  binding: Binding,
  valueOf: (b: BoundColumn) => string = (b) => valueSql(b.received),
  castOf?: (b: BoundColumn) => string | undefined,
  enumOf?: (b: BoundColumn) => string | undefined,
): string {
  // Measured: gating this behind one OR chain of the checks (assemble only for invalid records) is slower, since
  // every check of a valid record runs either way.
  const cases: string[] = [];
  for (const b of binding.bound) {
    for (const check of columnChecks(b.column, valueOf(b), b.received !== undefined, castOf?.(b), enumOf?.(b))) {
      cases.push(`CASE WHEN ${check.sql} THEN ${lit(`${b.column.name}:${check.code}`)} END`);
    }
  }
  if (cases.length === 0) return "''";
  return `concat_ws(',', ${cases.join(',\n    ')})`;
}

/**
 * MD5 over all received fields in canonical order: contract columns in contract order (a missing column counts as
 * empty), then non-empty extra fields as NAME=value sorted by name, so a drop that adds an all-empty column hashes
 * its records as before. Raw values: exact duplicates are identical as received.
 */
export function recordHashSql(binding: Binding): string {
  // concat reads NULL as '' (cheaper than concat_ws over coalesce); the unit separator keeps fields apart.
  const SEP = 'chr(31)';
  const parts: string[] = [];
  for (const b of binding.bound) {
    if (parts.length > 0) parts.push(SEP);
    parts.push(b.received === undefined ? "''" : ident(b.received));
  }
  const extras = [...binding.extras].sort((a, b) => (a.toUpperCase() < b.toUpperCase() ? -1 : a.toUpperCase() > b.toUpperCase() ? 1 : 0));
  for (const e of extras) {
    // An empty extra field adds nothing, not even a separator.
    parts.push(`CASE WHEN ${ident(e)} <> '' THEN ${SEP} || ${lit(`${e.toUpperCase()}=`)} || ${ident(e)} END`);
  }
  return `md5(concat(${parts.join(', ')}))`;
}

/** Whether a column type needs a cast (everything but VARCHAR/TEXT). */
export const isTyped = (column: ColumnDef): boolean => column.type.kind !== 'varchar' && column.type.kind !== 'text';

/** Internal column names of the staged relation (positional, so no received name can collide with them). */
export const STAGE = {
  bronze: (i: number) => `__c360_b${i}`,
  extra: (i: number) => `__c360_x${i}`,
  /** VARCHAR[] of the received fields in received order, on invalid rows only. */
  raw: '__c360_raw',
  /** VARCHAR source position given by the caller (e.g. partition/offset). */
  pos: '__c360_pos',
  /** BIGINT 0-based row number in the file, when the reader provides one (Parquet). */
  seq: '__c360_seq',
  hash: '__c360_hash',
  reasons: '__c360_reasons',
} as const;

export interface StageOptions {
  /** Internal columns of the source (such as STAGE.pos and STAGE.seq) carried through unchanged. */
  passthrough?: readonly string[];
  /** The source yields null, never '', for an empty field (see valueSql). */
  emptyIsNull?: boolean;
}

/**
 * One pass over an all-VARCHAR source (received columns `received`, plus internal `passthrough` columns such as
 * STAGE.pos and STAGE.seq, carried through unchanged) that
 * yields everything ingestion writes: per contract column i its Bronze value STAGE.bronze(i) (typed; meaningful
 * for valid rows), per extra column j its normalised value STAGE.extra(j), the list STAGE.raw of the received
 * values on invalid rows only (quarantine keeps records as received; valid rows need no raw copy), the record
 * hash and the reasons string. Every field is normalised and cast exactly once.
 */
export function stageSql(binding: Binding, received: readonly string[], sourceSql: string, options: StageOptions = {}): string {
  const { passthrough = [], emptyIsNull = false } = options;
  const v = (i: number) => `__c360_v${i}`;
  const t = (i: number) => `__c360_t${i}`;
  const ex = (i: number) => `__c360_e${i}`;
  const present = binding.bound.map((b) => b.received !== undefined);
  // Level 1: normalised values.
  const l1 = [
    '*',
    ...binding.bound.flatMap((b, i) => (present[i] ? [`${valueSql(b.received, emptyIsNull)} AS ${v(i)}`] : [])),
  ];
  // Level 2: casts, enum values and the record hash (over raw fields).
  const l2 = [
    '*',
    ...binding.bound.flatMap((b, i) => (present[i] && isTyped(b.column) ? [`${tryCastSql(b.column, v(i))} AS ${t(i)}`] : [])),
    ...binding.bound.flatMap((b, i) => (present[i] && b.column.enum && !isTyped(b.column) ? [`${enumCastSql(b.column, v(i))} AS ${ex(i)}`] : [])),
    `${recordHashSql(binding)} AS ${STAGE.hash}`,
  ];
  const index = new Map(binding.bound.map((b, i) => [b, i]));
  const vOf = (b: BoundColumn) => v(index.get(b)!);
  const tOf = (b: BoundColumn) => (isTyped(b.column) ? t(index.get(b)!) : undefined);
  const eOf = (b: BoundColumn) => (b.column.enum && !isTyped(b.column) ? ex(index.get(b)!) : undefined);
  // Level 3: reasons and Bronze values.
  const l3 = [
    ...received.map((r) => ident(r)),
    ...passthrough,
    STAGE.hash,
    `${reasonsSql(binding, vOf, tOf, eOf)} AS ${STAGE.reasons}`,
    ...binding.bound.map((b, i) => {
      if (!present[i]) return `CAST(NULL AS ${duckdbType(b.column.type)}) AS ${STAGE.bronze(i)}`;
      const val = isTyped(b.column) ? t(i) : b.column.enum ? ex(i) : v(i);
      return `${val} AS ${STAGE.bronze(i)}`;
    }),
    ...binding.extras.map((e, j) => `${valueSql(e, emptyIsNull)} AS ${STAGE.extra(j)}`),
  ];
  // Level 4: keep raw fields for invalid rows only.
  const l4 = [
    ...binding.bound.map((_b, i) => STAGE.bronze(i)),
    ...binding.extras.map((_e, j) => STAGE.extra(j)),
    // One list column, built on invalid rows only: far cheaper to stage than a mostly-null column per field.
    `CASE WHEN ${STAGE.reasons} <> '' THEN [${received.map((r) => ident(r)).join(', ')}]::VARCHAR[] END AS ${STAGE.raw}`,
    ...passthrough,
    STAGE.hash,
    STAGE.reasons,
  ];
  return `SELECT ${l4.join(', ')} FROM (SELECT ${l3.join(',\n  ')} FROM (SELECT ${l2.join(', ')} FROM (SELECT ${l1.join(', ')} FROM (${sourceSql}))))`;
}
