// The shape of a source-table contract. Every other artefact (DuckDB/Parquet/Snowflake types, validation SQL,
// sample data, docs) is derived from these definitions, so a column is written down exactly once.

export type ColumnType =
  | { kind: 'varchar'; length: number }
  | { kind: 'text' }
  | { kind: 'integer' }
  | { kind: 'decimal'; precision: number; scale: number }
  | { kind: 'date' }
  | { kind: 'timestamp' }
  | { kind: 'boolean' };

/** Value formats checked on top of the type. */
export type Format =
  | 'email'
  | 'phone'
  | 'country_code'
  | 'state_code'
  | 'postal_code'
  | 'currency_code'
  | 'json_array'
  | 'url';

/** PII class per column; drives masking policies in the warehouse and redaction in logs. */
export type PiiClass = 'none' | 'name' | 'email' | 'phone' | 'address' | 'birth_date' | 'free_text' | 'demographic';

export interface ForeignKey {
  table: string;
  column: string;
}

export interface ColumnDef {
  name: string;
  type: ColumnType;
  description: string;
  /** Required: null or empty is a quarantine reason. */
  required?: boolean;
  enum?: readonly string[];
  /** Inclusive numeric bounds. */
  min?: number;
  max?: number;
  format?: Format;
  pii?: PiiClass;
  references?: ForeignKey;
}

export interface TableContract {
  /** Seed table name, e.g. CUSTOMER_TRANSACTIONS. */
  name: string;
  /** Seed source system, e.g. Multi_Channel. Default for the Bronze _source_system column. */
  sourceSystem: string;
  /** Folder under bronze/customer360/, e.g. transactions or external/profiles. */
  bronzeDir: string;
  description: string;
  primaryKey: readonly string[];
  /** Column holding the event time used for the as-of cut (absent for reference data). */
  eventTime?: string;
  /** Streamed through Event Hubs in the seed (batch drops are accepted too). */
  streaming: boolean;
  /** Bumped when a column changes; stamped on every Bronze row as _schema_version. */
  version: number;
  columns: readonly ColumnDef[];
}

/** Reason codes written to quarantine as `COLUMN:CODE` (or `_RECORD:CODE` for whole-record problems). */
export const REASON = {
  REQUIRED: 'REQUIRED',
  TYPE: 'TYPE',
  TOO_LONG: 'TOO_LONG',
  ENUM: 'ENUM',
  RANGE: 'RANGE',
  FORMAT: 'FORMAT',
  /** Whole-record problems (streaming): not JSON, unknown table, oversized. */
  NOT_JSON: 'NOT_JSON',
  UNKNOWN_TABLE: 'UNKNOWN_TABLE',
  OVERSIZED: 'OVERSIZED',
  /** A CSV record the reader cannot split into the header's fields (ragged row, stray quote): kept as its text. */
  MALFORMED: 'MALFORMED',
} as const;
export type ReasonCode = (typeof REASON)[keyof typeof REASON];

// Small builders keep the contract files close to the seed's own notation.
export const varchar = (length: number): ColumnType => ({ kind: 'varchar', length });
export const text = (): ColumnType => ({ kind: 'text' });
export const integer = (): ColumnType => ({ kind: 'integer' });
export const decimal = (precision: number, scale: number): ColumnType => ({ kind: 'decimal', precision, scale });
export const date = (): ColumnType => ({ kind: 'date' });
export const timestamp = (): ColumnType => ({ kind: 'timestamp' });
export const boolean = (): ColumnType => ({ kind: 'boolean' });

export function column(name: string, type: ColumnType, description: string, extra: Omit<ColumnDef, 'name' | 'type' | 'description'> = {}): ColumnDef {
  return { name, type, description, ...extra };
}

/** Bronze metadata columns stamped on every row (lineage). */
export const BRONZE_METADATA_COLUMNS = [
  { name: '_load_id', description: 'Load id of the run that wrote the row (ADF @pipeline().RunId in Azure).' },
  { name: '_ingested_at', description: 'UTC time the row was committed to Bronze.' },
  { name: '_source_system', description: 'Source system: the record\'s SOURCE_SYSTEM field if present, else the ingest flag, else the contract default.' },
  { name: '_source_file', description: 'File (or stream position) the row came from.' },
  { name: '_record_hash', description: 'MD5 of the record as received, over all its fields: the exact-duplicate key.' },
  { name: '_schema_version', description: 'Contract version the row was validated against.' },
] as const;

/**
 * Format rules, shared by the Bronze validator (DuckDB regexp_full_match, RE2 syntax) and the sample generator
 * (which injects violations). json_array has no pattern: the value must parse as a JSON array.
 */
export const FORMAT_PATTERNS: Record<Exclude<Format, 'json_array'>, string> = {
  email: "^[A-Za-z0-9._%+'-]+@[A-Za-z0-9-]+(\\.[A-Za-z0-9-]+)*\\.[A-Za-z]{2,}$",
  // 7 to 15 digits, optionally led by +, with spaces, dots, dashes and parentheses between them.
  phone: '^\\+?([ ().-]*[0-9]){7,15}[ ().-]*$',
  country_code: '^[A-Z]{2,3}$',
  state_code: '^[A-Z]{2}$',
  postal_code: '^[A-Za-z0-9][A-Za-z0-9 -]{1,8}[A-Za-z0-9]$',
  currency_code: '^[A-Z]{3}$',
  url: '^https?://[^\\s]+$',
};
