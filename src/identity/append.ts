// Bulk insert of TypeScript-computed rows through the DuckDB appender (strings, numbers, booleans, nulls).
import type { Engine } from '../engine/duckdb.ts';

export type Cell = string | number | boolean | null | undefined;

export async function appendRows(engine: Engine, table: string, rows: readonly (readonly Cell[])[]): Promise<void> {
  if (rows.length === 0) return;
  const appender = await engine.connection.createAppender(table);
  try {
    for (const row of rows) {
      for (const v of row) {
        if (v === null || v === undefined) appender.appendNull();
        else if (typeof v === 'string') appender.appendVarchar(v);
        else if (typeof v === 'boolean') appender.appendBoolean(v);
        else if (Number.isInteger(v)) appender.appendBigInt(BigInt(v));
        else appender.appendDouble(v);
      }
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}

/** Column types a staging table uses: integers as BIGINT, reals as DOUBLE. */
export type StageType = 'BIGINT' | 'DOUBLE' | 'BOOLEAN' | 'VARCHAR';

export function stageType(duckdbType: string): StageType {
  if (['TINYINT', 'SMALLINT', 'INTEGER', 'BIGINT', 'UTINYINT', 'USMALLINT', 'UINTEGER'].includes(duckdbType)) return 'BIGINT';
  if (duckdbType === 'DOUBLE' || duckdbType === 'FLOAT') return 'DOUBLE';
  if (duckdbType === 'BOOLEAN') return 'BOOLEAN';
  return 'VARCHAR';
}

/** Appends rows whose columns have the given types (a whole-number DOUBLE stays a DOUBLE). */
export async function appendTyped(engine: Engine, table: string, types: readonly StageType[], rows: readonly (readonly Cell[])[]): Promise<void> {
  if (rows.length === 0) return;
  const appender = await engine.connection.createAppender(table);
  try {
    for (const row of rows) {
      types.forEach((t, i) => {
        const v = row[i];
        if (v === null || v === undefined) appender.appendNull();
        else if (t === 'BIGINT') appender.appendBigInt(BigInt(v as number));
        else if (t === 'DOUBLE') appender.appendDouble(Number(v));
        else if (t === 'BOOLEAN') appender.appendBoolean(Boolean(v));
        else appender.appendVarchar(String(v));
      });
      appender.endRow();
    }
    appender.flushSync();
  } finally {
    appender.closeSync();
  }
}
