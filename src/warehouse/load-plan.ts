// The load plan: the statements that bring the Gold snapshots of one as-of date into the warehouse tables, the same
// logical steps for both dialects (only the staging COPY differs). Readers see a load whole or not at all:
//   stage    per table: clear staging rows of this load id (a retried load starts clean), COPY the snapshot into
//            staging stamped with the load id and as-of date (outside the transaction: staging is not read by users);
//            a table over a day-partitioned dataset: only the days changed since the last load (increment.ts)
//   BEGIN    one transaction for every table
//   apply    per table: MERGE staging -> target by primary key (matched rows updated only when a value differs, so a
//            re-run leaves the table exactly as it was, _LOAD_ID included); delete target keys missing from the
//            snapshot (snapshot: whole table; partition: within the AS_OF_DATE; append tables only insert new keys);
//            record the load in OPS.LOAD_AUDIT (changed only when the row count changes) and, for a day-partitioned
//            dataset, how far it was read in OPS.LOAD_STATE
//   COMMIT
//   cleanup  per table: clear this load's staging rows
// A load killed before COMMIT leaves every table as the previous load left it; staging rows of the dead load are
// cleared by its retry (same load id) first thing.
import type { CopySource, Dialect, TableDdl } from './dialect.ts';
import { dayPredicate, LOAD_STATE_DDL, type LoadMark } from './increment.ts';
import { CHANGE_COLUMN, LOAD_COLUMNS, OPS_SCHEMA, SCHEMAS, STAGING_SCHEMA, T, stagingName, type WarehouseColumn, type WarehouseTable, type WarehouseView } from './types.ts';

export const AUDIT_TABLE = 'LOAD_AUDIT';

export const AUDIT_DDL: TableDdl = {
  schema: OPS_SCHEMA,
  name: AUDIT_TABLE,
  comment: 'One row per loaded table and as-of date: row count and the load that first loaded that content',
  primaryKey: ['SCHEMA_NAME', 'TABLE_NAME', 'AS_OF_DATE'],
  clusterBy: [],
  columns: [
    { name: 'SCHEMA_NAME', type: T.varchar, comment: 'Schema of the loaded table' },
    { name: 'TABLE_NAME', type: T.varchar, comment: 'Loaded table' },
    { name: 'AS_OF_DATE', type: T.date, comment: 'As-of date of the Gold snapshot' },
    { name: 'ROW_COUNT', type: T.bigint, comment: 'Rows in the table after the load (partition tables: within the as-of date)' },
    { name: '_LOAD_ID', type: T.varchar, comment: 'Load that first loaded this row count' },
  ],
};

export const SCHEMA_COMMENTS: Record<string, string> = {
  CUSTOMER_360: 'Customer 360: profiles, identity map, transactions, interactions, products, dates, risk scores, segments, models',
  CUSTOMER_BEHAVIOR: 'Behaviour: events, sessions, touchpoints, time, activity aggregates, funnel, campaigns and attribution',
  RECOMMENDATIONS: 'Personalization: product recommendations, recommendation and content dimensions, personalization events',
  [STAGING_SCHEMA]: 'Load staging: Gold snapshots copied here per load id, merged into the targets, then cleared',
  [OPS_SCHEMA]: 'Operations: load audit, stage and masking policies',
};

export function targetColumns(t: WarehouseTable): WarehouseColumn[] {
  return [...t.columns, ...LOAD_COLUMNS];
}

export function targetDdl(t: WarehouseTable): TableDdl {
  return { schema: t.schema, name: t.name, comment: t.comment, columns: targetColumns(t), primaryKey: t.primaryKey, clusterBy: t.clusterBy };
}

export function stagingDdl(t: WarehouseTable): TableDdl {
  return {
    schema: STAGING_SCHEMA, name: stagingName(t), comment: `Staging for ${t.schema}.${t.name} (rows of one load id at a time)`,
    columns: [...targetColumns(t), CHANGE_COLUMN], primaryKey: [], clusterBy: [], staging: true,
  };
}

/**
 * The view's SELECT: every column of its table, then each join's columns (LEFT JOIN: a row per base row at most).
 * `schemaOf` renames the schemas read (and the view's own): the local analyst copy reads the masked ANALYST_ views.
 */
export function renderViewSelect(d: Dialect, v: WarehouseView, schemaOf: (s: string) => string = (s) => s): string {
  const cols = [
    ...v.from.columns.map((c) => `b.${d.ident(c.name)}`),
    ...v.joins.flatMap((j, i) => j.columns.map((c) => `j${i}.${d.ident(c)}`)),
  ];
  const joins = v.joins.map((j, i) => `LEFT JOIN ${d.qualified(schemaOf(j.table.schema), j.table.name)} AS j${i}\n  ON ${j.on.map((k) => `j${i}.${d.ident(k)} = b.${d.ident(k)}`).join(' AND ')}`);
  return `SELECT ${cols.join(', ')}\nFROM ${d.qualified(schemaOf(v.from.schema), v.from.name)} AS b\n${joins.join('\n')}`;
}

/** Schemas, target, staging and audit tables: idempotent (IF NOT EXISTS); then the views whose tables are all given. */
export function renderTablesDdl(d: Dialect, tables: readonly WarehouseTable[], views: readonly WarehouseView[] = []): string[] {
  const out: string[] = [];
  for (const s of [...SCHEMAS, STAGING_SCHEMA, OPS_SCHEMA]) out.push(...d.createSchema(s, SCHEMA_COMMENTS[s]!));
  for (const t of tables) out.push(...d.createTable(targetDdl(t)));
  for (const t of tables) out.push(...d.createTable(stagingDdl(t)));
  out.push(...d.createTable(AUDIT_DDL));
  out.push(...d.createTable(LOAD_STATE_DDL));
  return [...out, ...renderViewsDdl(d, tables, views)];
}

/** CREATE OR REPLACE of the views whose tables are all among `tables`. */
export function renderViewsDdl(d: Dialect, tables: readonly WarehouseTable[], views: readonly WarehouseView[], schemaOf: (s: string) => string = (s) => s): string[] {
  const have = new Set(tables.map((t) => `${t.schema}.${t.name}`));
  const has = (t: WarehouseTable) => have.has(`${t.schema}.${t.name}`);
  return views
    .filter((v) => has(v.from) && v.joins.every((j) => has(j.table)))
    .flatMap((v) => d.createView({ schema: schemaOf(v.schema), name: v.name, comment: v.comment, columns: v.columns, select: renderViewSelect(d, v, schemaOf) }));
}

export interface LoadStep {
  step:
    | 'clear-staging' | 'stage-partitions' | 'stage-changes' | 'stage-deletes'
    | 'merge' | 'delete-missing' | 'replace-partitions' | 'insert' | 'audit' | 'mark' | 'clean-staging';
  /** stage: before the load's transaction; apply: inside it; cleanup: after COMMIT. */
  phase: 'stage' | 'apply' | 'cleanup';
  sql: string;
}

/** One statement of a whole load: a table's step, or the load's BEGIN / COMMIT. */
export interface PlannedLoadStep {
  table?: WarehouseTable;
  step: LoadStep['step'] | 'begin' | 'commit';
  sql: string;
}

/**
 * The whole load: every table's stage steps, BEGIN, every table's apply steps, COMMIT, every table's cleanup. The
 * tables' changes become visible together at COMMIT (Snowflake: no DDL inside, which would commit implicitly).
 */
export function renderLoad(
  d: Dialect,
  tables: readonly WarehouseTable[],
  o: { loadId: string; asOf: string; source: (t: WarehouseTable) => CopySource; fullRefresh?: boolean; increment?: (t: WarehouseTable) => TableIncrement | undefined },
): PlannedLoadStep[] {
  const per = tables.map((t) => ({ t, steps: renderTableLoad(d, t, { loadId: o.loadId, asOf: o.asOf, source: o.source(t), fullRefresh: o.fullRefresh, ...o.increment?.(t) }) }));
  const phase = (ph: LoadStep['phase']) => per.flatMap(({ t, steps }) => steps.filter((s) => s.phase === ph).map((s) => ({ table: t, step: s.step, sql: s.sql })));
  return [...phase('stage'), { step: 'begin', sql: 'BEGIN TRANSACTION' }, ...phase('apply'), { step: 'commit', sql: 'COMMIT' }, ...phase('cleanup')];
}

/** The rows of the target a load reconciles: the whole table, or the loaded AS_OF_DATE of a partition table. */
export function targetScope(d: Dialect, t: WarehouseTable, asOf: string): string {
  return t.strategy === 'partition' ? ` WHERE ${d.ident('AS_OF_DATE')} = ${d.date(asOf)}` : '';
}

/** A table over a day-partitioned dataset: the days to reconcile (undefined: all) and the mark to record. */
export interface TableIncrement {
  /** Days changed since the last load: only the source's and the target's rows of these days are compared. */
  days?: readonly string[];
  /**
   * A batch log (append table): the batch files written since the last load (names in the as-of folder); only they
   * are read (none: nothing to stage). Undefined: every file.
   */
  files?: readonly string[];
  /** How far this load reads the dataset (recorded in OPS.LOAD_STATE in the load's transaction). */
  mark?: LoadMark;
}

/**
 * One table's steps. Only what changed is staged and applied; the snapshot is read in place and compared with the
 * target (set difference over the data columns, so a re-run stages nothing and changes nothing):
 *   key tables          stage-changes: snapshot rows not in the target (new or changed); stage-deletes: target keys
 *                       the snapshot lacks; apply: MERGE the changed rows by key, DELETE the gone keys
 *   partitioned facts   stage-partitions: partition values (partitionBy) where the snapshot and the target differ
 *                       either way; stage-changes: the snapshot's rows of those partitions; apply: DELETE those
 *                       partitions, INSERT their rows (partition replace)
 *   append tables       stage-changes: snapshot rows whose key is not in the target; apply: INSERT them by MERGE
 * A full refresh (`fullRefresh`) stages every snapshot row (facts: every partition of snapshot and target) and so
 * rewrites every row, repairing a target that drifted from its snapshot; keys gone are deleted as usual.
 * A table over a day-partitioned dataset (dayColumn) given `days` compares only those days: the source is read from
 * their partitions, the target's rows are cut to them (no days: nothing to stage); an append table over a batch log
 * given `files` reads only those batches (none: nothing to stage); `mark` is recorded either way.
 */
export function renderTableLoad(d: Dialect, t: WarehouseTable, o: { loadId: string; asOf: string; source: CopySource; fullRefresh?: boolean } & TableIncrement): LoadStep[] {
  const target = d.qualified(t.schema, t.name);
  const staging = d.qualified(STAGING_SCHEMA, stagingName(t));
  const id = (c: string) => d.ident(c);
  const load = d.string(o.loadId);
  const keys = t.primaryKey;
  const data = t.columns.map((c) => id(c.name));
  const all = targetColumns(t).map((c) => id(c.name));
  const days = !o.fullRefresh && t.dayColumn ? o.days : undefined;
  const inScope = targetScope(d, t, o.asOf);
  const dayCut = days ? dayPredicate(id(t.dayColumn!), days, d.date) : undefined;
  const scope = dayCut ? `${inScope ? `${inScope} AND` : ' WHERE'} ${dayCut}` : inScope;
  const files = !o.fullRefresh && t.strategy === 'append' ? o.files : undefined;
  const src = d.readSnapshot({ columns: t.columns, source: days ? { ...o.source, days } : files ? { ...o.source, names: files } : o.source });
  const stamp = (change: string) => `${load}, ${d.date(o.asOf)}, ${d.string(change)}`;
  const into = (cols: readonly string[]) => `INSERT INTO ${staging} (${[...cols, '_LOAD_ID', '_AS_OF_DATE', '_CHANGE'].map(id).join(', ')})`;
  const staged = (change: string) => `${staging} AS s WHERE s.${id('_LOAD_ID')} = ${load} AND s.${id('_CHANGE')} = ${d.string(change)}`;
  const targetData = `SELECT ${data.join(', ')} FROM ${target}${scope}`;
  const dataNames = t.columns.map((c) => c.name);
  const steps: LoadStep[] = [{ step: 'clear-staging', phase: 'stage', sql: `DELETE FROM ${staging} WHERE ${id('_LOAD_ID')} = ${load}` }];
  if (days?.length === 0 || files?.length === 0) {
    // Nothing changed in the dataset since the last load.
  } else if (t.partitionBy) {
    const p = id(t.partitionBy);
    steps.push(
      {
        step: 'stage-partitions', phase: 'stage',
        sql: `${into([t.partitionBy])}
SELECT ${p}, ${stamp('PARTITION')} FROM (${o.fullRefresh
  ? `
  SELECT ${p} FROM (${src}) AS n
  UNION
  SELECT ${p} FROM ${target}${scope}`
  : `
  SELECT ${p} FROM (SELECT * FROM (${src}) AS n EXCEPT ${targetData}) AS added
  UNION
  SELECT ${p} FROM (${targetData} EXCEPT SELECT * FROM (${src}) AS n) AS removed`}
) AS changed`,
      },
      {
        step: 'stage-changes', phase: 'stage',
        sql: `${into(dataNames)}
SELECT ${data.map((c) => `n.${c}`).join(', ')}, ${stamp('UPSERT')} FROM (${src}) AS n
WHERE EXISTS (SELECT 1 FROM ${staged('PARTITION')} AND s.${p} IS NOT DISTINCT FROM n.${p})`,
      },
      {
        step: 'replace-partitions', phase: 'apply',
        sql: `DELETE FROM ${target}
WHERE ${dayCut ? `${dayCut} AND ` : ''}EXISTS (SELECT 1 FROM ${staged('PARTITION')} AND s.${p} IS NOT DISTINCT FROM ${target}.${p})`,
      },
      { step: 'insert', phase: 'apply', sql: `INSERT INTO ${target} (${all.join(', ')})\nSELECT ${all.join(', ')} FROM ${staged('UPSERT')}` },
    );
  } else {
    const on = keys.map((k) => `t.${id(k)} = s.${id(k)}`).join(' AND ');
    const nonKeys = t.columns.filter((c) => !keys.includes(c.name));
    const sets = [...nonKeys.map((c) => c.name), ...LOAD_COLUMNS.map((c) => c.name)].map((c) => `${id(c)} = s.${id(c)}`).join(', ');
    const changes = o.fullRefresh && t.strategy !== 'append'
      ? `SELECT * FROM (${src}) AS n`
      : t.strategy === 'append'
      ? `SELECT n.* FROM (${src}) AS n WHERE NOT EXISTS (SELECT 1 FROM ${target} AS t WHERE ${keys.map((k) => `t.${id(k)} = n.${id(k)}`).join(' AND ')})`
      : `SELECT * FROM (${src}) AS n EXCEPT ${targetData}`;
    steps.push({ step: 'stage-changes', phase: 'stage', sql: `${into(dataNames)}\nSELECT ${data.map((c) => `c.${c}`).join(', ')}, ${stamp('UPSERT')} FROM (\n${changes}\n) AS c` });
    if (t.strategy !== 'append') {
      const k = keys.map(id).join(', ');
      steps.push({
        step: 'stage-deletes', phase: 'stage',
        sql: `${into(keys)}\nSELECT ${k}, ${stamp('DELETE')} FROM (\nSELECT ${k} FROM ${target}${scope} EXCEPT SELECT ${k} FROM (${src}) AS n\n) AS gone`,
      });
    }
    // Staged rows differ from the target by construction, so a matched key is always updated.
    const update = t.strategy === 'append' ? '' : `\nWHEN MATCHED THEN UPDATE SET ${sets}`;
    steps.push({
      step: 'merge', phase: 'apply',
      sql: `MERGE INTO ${target} AS t
USING (SELECT * FROM ${staged('UPSERT')}) AS s
ON ${on}${update}
WHEN NOT MATCHED THEN INSERT (${all.join(', ')})
  VALUES (${targetColumns(t).map((c) => `s.${id(c.name)}`).join(', ')})`,
    });
    if (t.strategy !== 'append') {
      steps.push({
        step: 'delete-missing', phase: 'apply',
        sql: `DELETE FROM ${target}
WHERE EXISTS (SELECT 1 FROM ${staged('DELETE')} AND ${keys.map((k) => `s.${id(k)} = ${target}.${id(k)}`).join(' AND ')})`,
      });
    }
  }
  steps.push({ step: 'audit', phase: 'apply', sql: renderAudit(d, t, o, `${target}${inScope}`) });
  if (o.mark) steps.push({ step: 'mark', phase: 'apply', sql: renderMark(d, t, o.mark, o.loadId) });
  steps.push({ step: 'clean-staging', phase: 'cleanup', sql: `DELETE FROM ${staging} WHERE ${id('_LOAD_ID')} = ${load}` });
  return steps;
}

/** Records the table's row count after the load (counted over `rowsOf`: the target in scope) in OPS.LOAD_AUDIT. */
export function renderAudit(d: Dialect, t: WarehouseTable, o: { loadId: string; asOf: string }, rowsOf: string): string {
  const id = (c: string) => d.ident(c);
  const load = d.string(o.loadId);
  const audit = d.qualified(OPS_SCHEMA, AUDIT_TABLE);
  return `MERGE INTO ${audit} AS t
USING (
  SELECT ${d.string(t.schema)} AS SCHEMA_NAME, ${d.string(t.name)} AS TABLE_NAME, ${d.date(o.asOf)} AS AS_OF_DATE,
    COUNT(*) AS ROW_COUNT, ${load} AS ${id('_LOAD_ID')}
  FROM ${rowsOf}
) AS s
ON t.SCHEMA_NAME = s.SCHEMA_NAME AND t.TABLE_NAME = s.TABLE_NAME AND t.AS_OF_DATE = s.AS_OF_DATE
WHEN MATCHED AND t.ROW_COUNT IS DISTINCT FROM s.ROW_COUNT THEN UPDATE SET ROW_COUNT = s.ROW_COUNT, ${id('_LOAD_ID')} = s.${id('_LOAD_ID')}
WHEN NOT MATCHED THEN INSERT (SCHEMA_NAME, TABLE_NAME, AS_OF_DATE, ROW_COUNT, ${id('_LOAD_ID')})
  VALUES (s.SCHEMA_NAME, s.TABLE_NAME, s.AS_OF_DATE, s.ROW_COUNT, s.${id('_LOAD_ID')})`;
}

/**
 * Records how far this load read the table's day-partitioned dataset (OPS.LOAD_STATE), in the load's transaction;
 * a re-run that read no further leaves the row as it was (_LOAD_ID: the load that first read that far).
 */
export function renderMark(d: Dialect, t: WarehouseTable, mark: LoadMark, loadId: string): string {
  const state = d.qualified(OPS_SCHEMA, LOAD_STATE_DDL.name);
  return `MERGE INTO ${state} AS t
USING (
  SELECT ${d.string(t.schema)} AS SCHEMA_NAME, ${d.string(t.name)} AS TABLE_NAME, ${d.string(mark.lineage)} AS SOURCE_LINEAGE,
    ${mark.seq} AS SOURCE_SEQ, ${d.date(mark.asOf)} AS AS_OF_DATE, ${d.string(loadId)} AS ${d.ident('_LOAD_ID')}
) AS s
ON t.SCHEMA_NAME = s.SCHEMA_NAME AND t.TABLE_NAME = s.TABLE_NAME
WHEN MATCHED AND (t.SOURCE_LINEAGE IS DISTINCT FROM s.SOURCE_LINEAGE OR t.SOURCE_SEQ IS DISTINCT FROM s.SOURCE_SEQ OR t.AS_OF_DATE IS DISTINCT FROM s.AS_OF_DATE)
  THEN UPDATE SET SOURCE_LINEAGE = s.SOURCE_LINEAGE, SOURCE_SEQ = s.SOURCE_SEQ, AS_OF_DATE = s.AS_OF_DATE, ${d.ident('_LOAD_ID')} = s.${d.ident('_LOAD_ID')}
WHEN NOT MATCHED THEN INSERT (SCHEMA_NAME, TABLE_NAME, SOURCE_LINEAGE, SOURCE_SEQ, AS_OF_DATE, ${d.ident('_LOAD_ID')})
  VALUES (s.SCHEMA_NAME, s.TABLE_NAME, s.SOURCE_LINEAGE, s.SOURCE_SEQ, s.AS_OF_DATE, s.${d.ident('_LOAD_ID')})`;
}
