// Masked views of the local DuckDB warehouse for the analyst role: for every warehouse table T in schema S a view
// ANALYST_S.T with the same columns, each PII column masked by its class with the same rule as the Snowflake masking
// policies (src/privacy/masking.ts). DuckDB has no roles: the views are what analysts' tools (and the dashboard) are
// pointed at; the base tables stay for the pipeline and engineers, as with the ENGINEER role in Snowflake.
import type { Engine } from '../engine/duckdb.ts';
import { duckdbDialect as d } from '../warehouse/dialects/duckdb.ts';
import type { WarehouseTable } from '../warehouse/types.ts';
import { maskSqlDuckdb } from './masking.ts';

export const ANALYST_PREFIX = 'ANALYST_';

/** The analyst schema of a warehouse schema: CUSTOMER_360 -> ANALYST_CUSTOMER_360. */
export const analystSchema = (schema: string): string => `${ANALYST_PREFIX}${schema}`;

/** DDL of the analyst views of the given tables (idempotent: CREATE OR REPLACE). */
export function renderMaskedViews(tables: readonly WarehouseTable[]): string[] {
  const out = [...new Set(tables.map((t) => analystSchema(t.schema)))].map((s) => `CREATE SCHEMA IF NOT EXISTS ${d.ident(s)}`);
  for (const t of tables) {
    const cols = t.columns.map((c) => (c.pii && c.pii !== 'none' ? `${maskSqlDuckdb(c.pii, d.ident(c.name))} AS ${d.ident(c.name)}` : d.ident(c.name)));
    const masked = t.columns.filter((c) => c.pii && c.pii !== 'none').map((c) => c.name);
    out.push(`CREATE OR REPLACE VIEW ${d.qualified(analystSchema(t.schema), t.name)} AS SELECT ${cols.join(', ')} FROM ${d.qualified(t.schema, t.name)}`);
    out.push(`COMMENT ON VIEW ${d.qualified(analystSchema(t.schema), t.name)} IS ${d.string(`${t.schema}.${t.name} for analysts${masked.length ? `; masked: ${masked.join(', ')}` : ' (no PII columns)'}`)}`);
  }
  return out;
}

export async function createMaskedViews(engine: Engine, tables: readonly WarehouseTable[]): Promise<void> {
  for (const sql of renderMaskedViews(tables)) await engine.run(sql);
}
