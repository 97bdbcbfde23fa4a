// The Snowflake load as a pure function: Gold Parquet on ADLS -> external stage -> COPY INTO staging -> MERGE into
// the targets keyed by the load id, one table at a time. `c360 snowflake load` executes it; the golden file
// snowflake/load/load-plan.sql is this plan for an example load id and date.
import { snowflakeDialect as d, snowflakeIdent as id } from '../dialects/snowflake.ts';
import { renderTableLoad } from '../load-plan.ts';
import { WAREHOUSE_TABLES } from '../model.ts';
import type { WarehouseTable } from '../types.ts';
import { stageRef, type SnowflakeSetup } from './setup.ts';

export interface PlannedStatement {
  /** e.g. CUSTOMER_360.DIM_CUSTOMER:merge */
  label: string;
  sql: string;
}

export const EXAMPLE_LOAD = { loadId: 'EXAMPLE_LOAD_ID', asOf: '2026-03-31' };

export function snowflakeLoadPlan(
  s: SnowflakeSetup,
  o: { loadId: string; asOf: string; tables?: readonly WarehouseTable[]; available?: ReadonlySet<string> },
): PlannedStatement[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.asOf)) throw new Error(`Invalid as-of date '${o.asOf}': expected YYYY-MM-DD`);
  const out: PlannedStatement[] = [{ label: 'session', sql: `USE DATABASE ${id(s.database)}` }];
  for (const t of o.tables ?? WAREHOUSE_TABLES) {
    // A dataset with no snapshot in the lake is skipped: an empty COPY would make the snapshot delete wipe the table.
    if (o.available && !o.available.has(t.source)) continue;
    const stagePath = `${stageRef(s)}/${t.source}/as_of_date=${o.asOf}/`;
    for (const step of renderTableLoad(d, t, { loadId: o.loadId, asOf: o.asOf, source: { stagePath } })) {
      out.push({ label: `${t.schema}.${t.name}:${step.step}`, sql: step.sql });
    }
  }
  return out;
}
