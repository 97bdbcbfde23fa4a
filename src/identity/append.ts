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
