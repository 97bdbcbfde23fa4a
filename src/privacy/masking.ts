// How each PII class is masked for readers who may not see it in clear (the analyst role): one rule per class, as
// Snowflake SQL (the masking policies), DuckDB SQL (masked views of the local warehouse) and a JS function (the
// profile API), so every surface shows an analyst the same masked value.
import type { PiiClass } from '../../schemas/contract.ts';

export type MaskedClass = Exclude<PiiClass, 'none'>;

export interface MaskRule {
  /** Snowflake masking policy name (OPS schema). */
  policy: string;
  type: 'VARCHAR' | 'DATE';
  comment: string;
  /** The masked expression over VAL, per dialect. */
  snowflake: string;
  duckdb: string;
  js(value: unknown): unknown;
}

const hidden = '*****';
const text = (v: unknown) => (v instanceof Date ? v.toISOString().slice(0, 10) : String(v));

export const MASK_RULES: Record<MaskedClass, MaskRule> = {
  name: {
    policy: 'PII_NAME_MASK', type: 'VARCHAR', comment: 'Names: first letter only',
    snowflake: "LEFT(VAL, 1) || '***'", duckdb: "left(VAL, 1) || '***'",
    js: (v) => `${[...text(v)].slice(0, 1).join('')}***`,
  },
  email: {
    policy: 'PII_EMAIL_MASK', type: 'VARCHAR', comment: 'E-mail: domain only',
    snowflake: "REGEXP_REPLACE(VAL, '^[^@]+', '*****')", duckdb: "regexp_replace(VAL, '^[^@]+', '*****')",
    js: (v) => text(v).replace(/^[^@]+/, hidden),
  },
  phone: {
    policy: 'PII_PHONE_MASK', type: 'VARCHAR', comment: 'Phone: last four digits only',
    snowflake: "'***-' || RIGHT(VAL, 4)", duckdb: "'***-' || right(VAL, 4)",
    js: (v) => `***-${[...text(v)].slice(-4).join('')}`,
  },
  address: {
    policy: 'PII_ADDRESS_MASK', type: 'VARCHAR', comment: 'Address parts: hidden',
    snowflake: `'${hidden}'`, duckdb: `'${hidden}'`, js: () => hidden,
  },
  birth_date: {
    policy: 'PII_BIRTH_DATE_MASK', type: 'DATE', comment: 'Birth date: year only',
    snowflake: 'DATE_FROM_PARTS(YEAR(VAL), 1, 1)', duckdb: 'make_date(year(VAL), 1, 1)',
    js: (v) => `${text(v).slice(0, 4)}-01-01`,
  },
  free_text: {
    policy: 'PII_FREE_TEXT_MASK', type: 'VARCHAR', comment: 'Free text: hidden',
    snowflake: `'${hidden}'`, duckdb: `'${hidden}'`, js: () => hidden,
  },
  demographic: {
    policy: 'PII_DEMOGRAPHIC_MASK', type: 'VARCHAR', comment: 'Demographics: hidden',
    snowflake: `'${hidden}'`, duckdb: `'${hidden}'`, js: () => hidden,
  },
};

/** The masked form of a value of a PII class (null stays null; 'none' or no class is returned as is). */
export function maskValue(pii: PiiClass | undefined, value: unknown): unknown {
  if (value === null || value === undefined || !pii || pii === 'none') return value;
  return MASK_RULES[pii].js(value);
}

/** A DuckDB expression masking the column expression `expr` by its PII class. */
export function maskSqlDuckdb(pii: PiiClass | undefined, expr: string): string {
  if (!pii || pii === 'none') return expr;
  return `CASE WHEN (${expr}) IS NULL THEN NULL ELSE ${MASK_RULES[pii].duckdb.replaceAll('VAL', `(${expr})`)} END`;
}

/**
 * A row with its PII columns masked, for error messages and logs that show an example row: a log line is read by
 * whoever runs the pipeline, so it gets the analyst's view. Columns not in `pii` are kept.
 */
export function maskRow(pii: ReadonlyMap<string, PiiClass | undefined>, row: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(row).map(([k, v]) => [k, maskValue(pii.get(k), v)]));
}
