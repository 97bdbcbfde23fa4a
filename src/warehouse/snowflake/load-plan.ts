// The Snowflake load as a pure function: Gold Parquet on ADLS -> external stage -> COPY INTO staging for every table,
// then one transaction MERGEs all of them into the targets (readers see the whole load or none of it). `c360 snowflake load` executes it; the golden file
// snowflake/load/load-plan.sql is this plan for an example load id and date.
import { snowflakeDialect as d, snowflakeIdent as id } from '../dialects/snowflake.ts';
import { renderLoad, type TableIncrement } from '../load-plan.ts';
import { sourceDir, sourceUntil, WAREHOUSE_TABLES } from '../model.ts';
import { GOLD_ROOT } from '../../gold/paths.ts';
import type { WarehouseTable } from '../types.ts';
import { stageRef, type SnowflakeSetup } from './setup.ts';

export interface PlannedStatement {
  /** e.g. CUSTOMER_360.DIM_CUSTOMER:merge */
  label: string;
  sql: string;
}

/**
 * The golden plan's example: a daily load whose day-partitioned facts changed on the as-of date only since the last
 * load (OPS.LOAD_STATE said sequence number 41 of lineage EXAMPLE_LINEAGE; the dataset is now at 42).
 */
export const EXAMPLE_LOAD = {
  loadId: 'EXAMPLE_LOAD_ID',
  asOf: '2026-03-31',
  increment: (t: WarehouseTable): TableIncrement | undefined =>
    t.dayColumn ? { days: [EXAMPLE_LOAD.asOf], mark: { lineage: 'EXAMPLE_LINEAGE', seq: 42, asOf: EXAMPLE_LOAD.asOf } } : undefined,
};

/**
 * `increment` (by table): for a table over a day-partitioned dataset, the days changed since the last load (only
 * their partition folders are read and only the target's rows of those days compared) and the mark to record;
 * without it every day up to the as-of date is compared.
 */
export function snowflakeLoadPlan(
  s: SnowflakeSetup,
  o: {
    loadId: string; asOf: string; tables?: readonly WarehouseTable[]; available?: ReadonlySet<string>; fullRefresh?: boolean;
    increment?: (t: WarehouseTable) => TableIncrement | undefined;
  },
): PlannedStatement[] {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(o.asOf)) throw new Error(`Invalid as-of date '${o.asOf}': expected YYYY-MM-DD`);
  const out: PlannedStatement[] = [{ label: 'session', sql: `USE DATABASE ${id(s.database)}` }];
  // A dataset with no snapshot in the lake is skipped: an empty COPY would make the snapshot delete wipe the table.
  const tables = (o.tables ?? WAREHOUSE_TABLES).filter((t) => !o.available || o.available.has(t.source));
  const steps = renderLoad(d, tables, { loadId: o.loadId, asOf: o.asOf, fullRefresh: o.fullRefresh, increment: o.increment, source: (t) => ({ stagePath: `${stageRef(s)}/${sourceDir(t, o.asOf).slice(GOLD_ROOT.length + 1)}/`, until: sourceUntil(t, o.asOf) }) });
  for (const step of steps) out.push({ label: step.table ? `${step.table.schema}.${step.table.name}:${step.step}` : `load:${step.step}`, sql: step.sql });
  return out;
}
