// Loads Gold snapshots into the local DuckDB warehouse (H/warehouse.duckdb) by running the load plan, with the checks
// DuckDB does not do by itself: required columns present in the Parquet files, key columns non-null and unique.
import { createHash } from 'node:crypto';
import type { Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import type { Logger } from '../runtime/logger.ts';
import { duckdbDialect as d } from './dialects/duckdb.ts';
import { getDataset } from '../catalogue/index.ts';
import { readDatasetState, type DatasetState } from '../catalogue/partitioned.ts';
import { filesOfDays, marksFrom, planIncrement, renderMarksQuery, type LoadMark } from './increment.ts';
import { renderAudit, renderMark, renderTableLoad, renderTablesDdl, renderViewsDdl, stagingDdl, targetColumns, targetDdl, type TableIncrement } from './load-plan.ts';
import { isCurrentVersion, sourceDir, sourceFiles, WAREHOUSE_TABLES, WAREHOUSE_VIEWS } from './model.ts';
import { OPS_SCHEMA, STAGING_SCHEMA, stagingName, T, type WarehouseTable } from './types.ts';
import type { TableDdl } from './dialect.ts';
import { analystSchema, renderMaskedViews } from '../privacy/masked-views.ts';
import { maskRow } from '../privacy/masking.ts';

export interface TableLoadResult {
  table: string;
  source: string;
  status: 'loaded';
  /** Rows of the snapshot (the table's rows in scope after the load). */
  stagedRows: number;
  /** What this load staged and applied: changed or new rows, keys gone, partitions replaced (a re-run: all 0). */
  staged: { upserts: number; deletes: number; partitions: number };
  tableRows: number;
  missingColumns: string[];
  /** Gold files read (a day-partitioned dataset: the changed days' only). */
  files: string[];
  /** Wall milliseconds of the table's stage and apply steps (inside the load's transaction). */
  ms?: number;
  /** A day-partitioned dataset: the days compared ('all' on a first load, a full refresh or without a usable mark). */
  days?: readonly string[] | 'all';
}

/**
 * A first load inserts in clustering order (DuckDB's zone maps then prune by those columns) up to this many rows;
 * larger snapshots (the event fact, the activity aggregate) load in Gold file order, without FSST string compression:
 * sorting and FSST cost more than the rest of their load.
 */
export const CLUSTER_SORT_MAX_ROWS = 1_000_000;

export class LoadError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'LoadError';
  }
}

/**
 * What the local warehouse's DDL was last applied from: the SHA-256 of every statement ensureWarehouseSchema would
 * run. A load whose model renders the same DDL skips it (about 900 statements, most of them COMMENTs, each of which
 * costs a catalogue write: the costliest part of a daily load that changed little). Local only: Snowflake's DDL is
 * applied by `c360 snowflake load --setup`.
 */
export const SCHEMA_STATE_DDL: TableDdl = {
  schema: OPS_SCHEMA,
  name: 'SCHEMA_STATE',
  comment: 'The warehouse DDL the last load applied (SHA-256 of its statements): a load rendering the same DDL skips it',
  primaryKey: [],
  clusterBy: [],
  columns: [
    { name: 'DDL_SHA256', type: T.varchar, comment: 'SHA-256 of the DDL statements applied' },
    { name: '_LOAD_ID', type: T.varchar, comment: 'Load that applied them' },
  ],
};

/** Every statement ensureWarehouseSchema applies for `tables` (schemas, tables, masked views, the model's views). */
function schemaStatements(tables: readonly WarehouseTable[]): string[] {
  return [
    ...renderTablesDdl(d, tables), ...d.createTable(SCHEMA_STATE_DDL), ...renderMaskedViews(tables),
    ...renderViewsDdl(d, tables, WAREHOUSE_VIEWS), ...renderViewsDdl(d, tables, WAREHOUSE_VIEWS, analystSchema),
  ];
}

/**
 * Creates schemas, tables and views (idempotent) and adds columns the model gained since a table was created, unless
 * the warehouse says (OPS.SCHEMA_STATE) that the same DDL was applied already (`force`: apply it anyway, as a full
 * refresh does). Run it inside a transaction (the load's): the fingerprint then moves with the DDL, and hundreds of
 * COMMENT statements do not each commit to the file. The session's staging tables are created by loadTable.
 */
export async function ensureWarehouseSchema(engine: Engine, tables: readonly WarehouseTable[] = WAREHOUSE_TABLES, o: { loadId?: string; force?: boolean } = {}): Promise<void> {
  const statements = schemaStatements(tables);
  const sha = createHash('sha256').update(statements.join(';\n')).digest('hex');
  const stateTable = d.qualified(SCHEMA_STATE_DDL.schema, SCHEMA_STATE_DDL.name);
  const hasState = Number(await engine.scalar(`SELECT count(*) FROM duckdb_tables() WHERE database_name = current_database() AND schema_name = $1 AND table_name = $2`, [SCHEMA_STATE_DDL.schema, SCHEMA_STATE_DDL.name])) > 0;
  if (!o.force && hasState && (await engine.scalar(`SELECT max(${d.ident('DDL_SHA256')}) FROM ${stateTable}`)) === sha) return;
  const existing = await engine.all<{ table_schema: string; table_name: string; column_name: string }>(
    'SELECT table_schema, table_name, column_name FROM information_schema.columns',
  );
  const have = new Set(existing.map((r) => `${r.table_schema}.${r.table_name}.${r.column_name}`));
  const tablesPresent = new Set(existing.map((r) => `${r.table_schema}.${r.table_name}`));
  for (const sql of renderTablesDdl(d, tables)) await engine.run(sql);
  for (const sql of d.createTable(SCHEMA_STATE_DDL)) await engine.run(sql);
  await ensureColumns(engine, tables, have, tablesPresent);
  // The analyst's masked views (after the columns, so a view sees every column of the table).
  for (const sql of renderMaskedViews(tables)) await engine.run(sql);
  // The model's views last: they read the columns just added; their analyst copies read the masked views.
  for (const sql of renderViewsDdl(d, tables, WAREHOUSE_VIEWS)) await engine.run(sql);
  for (const sql of renderViewsDdl(d, tables, WAREHOUSE_VIEWS, analystSchema)) await engine.run(sql);
  await engine.run(`DELETE FROM ${stateTable}`);
  await engine.run(`INSERT INTO ${stateTable} VALUES (${d.string(sha)}, ${d.string(o.loadId ?? '')})`);
}

async function ensureColumns(engine: Engine, tables: readonly WarehouseTable[], have: Set<string>, tablesPresent: Set<string>): Promise<void> {
  for (const t of tables) {
    for (const ddl of [targetDdl(t), stagingDdl(t)]) {
      if (!tablesPresent.has(`${ddl.schema}.${ddl.name}`)) continue;
      for (const c of ddl.columns) {
        if (have.has(`${ddl.schema}.${ddl.name}.${c.name}`)) continue;
        await engine.run(`ALTER TABLE ${d.qualified(ddl.schema, ddl.name)} ADD COLUMN ${d.ident(c.name)} ${d.type(c.type)}`);
      }
    }
  }
}

/** What a load reads for a table: the state of a day-partitioned dataset (read once per load), and its files up to the as-of date. */
export interface TableSource {
  state?: DatasetState;
  files: string[];
}

export async function tableSource(lake: Lake, t: WarehouseTable, asOf: string): Promise<TableSource> {
  const state = t.dayColumn ? await readDatasetState(lake, getDataset(t.source).path) : undefined;
  return state ? { state, files: filesOfDays(state, Object.keys(state.partitions), asOf) } : { files: await sourceFiles(lake, t, asOf) };
}

export async function loadTable(
  engine: Engine,
  lake: Lake,
  t: WarehouseTable,
  o: { asOf: string; loadId: string; log?: Logger; fullRefresh?: boolean; marks?: ReadonlyMap<string, LoadMark>; source?: TableSource },
): Promise<TableLoadResult> {
  const label = `${t.schema}.${t.name}`;
  const target = d.qualified(t.schema, t.name);
  const firstLoad = Number(await engine.scalar(`SELECT count(*) FROM ${target}`)) === 0;
  // A day-partitioned dataset: the days changed since the last load, and their files only.
  const source = o.source ?? (await tableSource(lake, t, o.asOf));
  const planned = await planIncrement(lake, t, o.asOf, { mark: o.marks?.get(label), compareAll: firstLoad || o.fullRefresh, state: source.state, files: source.files });
  const increment: TableIncrement = planned?.increment ?? {};
  const files = planned ? planned.files : source.files;
  // No snapshot is not an empty snapshot: loading it as empty would wipe the table (a day-partitioned dataset with
  // state but no files is empty: its days are all gone, or it never had rows, and the target's rows are to go).
  if (files.length === 0 && !planned) throw new LoadError(`${label}: no Gold snapshot ${sourceDir(t, o.asOf)}`);
  const result: TableLoadResult = { table: label, source: t.source, status: 'loaded', stagedRows: 0, staged: { upserts: 0, deletes: 0, partitions: 0 }, tableRows: 0, missingColumns: [], files };
  if (planned && t.dayColumn) result.days = increment.days ?? 'all';
  const local = await Promise.all(files.map((f) => lake.localPath(f)));
  const described = local.length === 0 ? [] : await engine.all<{ column_name: string }>(
    `DESCRIBE SELECT * FROM read_parquet([${local.map((f) => d.string(f)).join(', ')}], union_by_name = true, hive_partitioning = false)`,
  );
  const present = local.length === 0 ? new Set(t.columns.map((c) => c.name)) : new Set(described.map((r) => r.column_name));
  const missing = t.columns.map((c) => c.name).filter((c) => !present.has(c));
  const missingKeys = missing.filter((c) => t.primaryKey.includes(c));
  if (missingKeys.length) {
    throw new LoadError(`${label}: Gold dataset ${sourceDir(t, o.asOf)} lacks key column(s) ${missingKeys.join(', ')} (files: ${files.join(', ')})`);
  }
  if (missing.length) o.log?.warn(`${label}: columns missing from the Gold dataset load as NULL`, { columns: missing.join(', ') });
  result.missingColumns = missing;
  const loadSource = { files: local, missingColumns: missing };
  try {
    if (firstLoad && local.length > 0) {
      // First load: every key is new, so the MERGE would insert everything and delete nothing. Insert straight from
      // the Parquet files into the table (no staging copy of the rows) and check the keys there.
      const rows = Number(await engine.scalar(`SELECT COALESCE(sum(num_rows), 0) FROM parquet_file_metadata([${local.map((f) => d.string(f)).join(', ')}])`));
      const big = rows > CLUSTER_SORT_MAX_ROWS;
      // FSST string compression is the costliest part of writing a large table; without it the event fact loads in
      // about two thirds of the time for about 1.6x its size in the file.
      if (big) await engine.run(`SET disabled_compression_methods = 'fsst'`);
      try {
        await engine.run(d.copyIntoStaging({ staging: target, columns: targetColumns(t), loadId: o.loadId, asOf: o.asOf, source: loadSource, orderBy: big ? [] : t.clusterBy }));
      } catch (e) {
        // The target's key columns are NOT NULL: name the key and show an offending row, as the staging check does.
        if (!/NOT NULL constraint/i.test((e as Error).message)) throw e;
        // The failed INSERT aborted the load's transaction: roll it back (the whole load fails) to read the example.
        await engine.run('ROLLBACK');
        const example = await engine.all(`SELECT * FROM read_parquet([${local.map((f) => d.string(f)).join(', ')}], union_by_name = true, hive_partitioning = false)
WHERE ${t.primaryKey.map((k) => `${d.ident(k)} IS NULL`).join(' OR ')} LIMIT 1`);
        throw new LoadError(`${label}: null key (${t.primaryKey.join(', ')}) e.g. ${JSON.stringify(maskRow(piiOf(t), example[0] ?? {}))} in Gold files ${files.join(', ')}`);
      } finally {
        if (big) await engine.run('RESET disabled_compression_methods');
      }
      const bad = await keyProblem(engine, t, target, o.loadId);
      if (bad) throw new LoadError(`${label}: ${bad} in Gold files ${files.join(', ')}`);
      await engine.run(renderAudit(d, t, o, target));
      if (increment.mark) await engine.run(renderMark(d, t, increment.mark, o.loadId));
      const partitions = t.partitionBy ? Number(await engine.scalar(`SELECT count(*) FROM (SELECT DISTINCT ${d.ident(t.partitionBy)} FROM ${target})`)) : 0;
      result.staged = { upserts: Number(await engine.scalar(`SELECT count(*) FROM ${target}`)), deletes: 0, partitions };
    } else {
      // Only what changed is staged (load-plan.ts); the snapshot's keys are checked first, as the MERGE needs them
      // unique and non-null (identical duplicate rows would otherwise collapse unnoticed in the set difference).
      // (a day-partitioned dataset: within the changed days; a row's key lives in one day, its source row's)
      const bad = local.length ? await keyProblem(engine, t, `(${d.readSnapshot({ columns: t.columns, source: loadSource })})`) : undefined;
      if (bad) throw new LoadError(`${label}: ${bad} in Gold files ${files.join(', ')}`);
      const staging = d.qualified(STAGING_SCHEMA, stagingName(t));
      // (session temp table: created here, as the schema step may have been skipped)
      for (const sql of d.createTable(stagingDdl(t))) await engine.run(sql);
      let counted = false;
      for (const s of renderTableLoad(d, t, { loadId: o.loadId, asOf: o.asOf, source: loadSource, fullRefresh: o.fullRefresh, ...increment })) {
        if (s.phase !== 'stage' && !counted) {
          counted = true;
          const counts = await engine.all<{ c: string; n: bigint }>(`SELECT _CHANGE AS c, count(*) AS n FROM ${staging} WHERE _LOAD_ID = ${d.string(o.loadId)} GROUP BY 1`);
          const n = (c: string) => Number(counts.find((x) => x.c === c)?.n ?? 0);
          result.staged = { upserts: n('UPSERT'), deletes: n('DELETE'), partitions: n('PARTITION') };
        }
        // An apply step with nothing staged for it changes nothing, but would still scan the target (a delete of no
        // keys joins every row of the table with an empty set): skipped. The Snowflake plan keeps them (rendered
        // before anything is staged).
        if (s.step === 'merge' && result.staged.upserts === 0) continue;
        if (s.step === 'delete-missing' && result.staged.deletes === 0) continue;
        if ((s.step === 'replace-partitions' || s.step === 'insert') && result.staged.partitions === 0) continue;
        // A batch log's mark moves only when its new batches brought rows: a re-run of the pipeline commits an empty
        // batch, and the warehouse stays exactly as it was (the empty batch is read again next time: reading more
        // batches than needed is always right).
        if (s.step === 'mark' && t.strategy === 'append' && result.staged.upserts === 0) continue;
        await engine.run(s.sql);
      }
    }
  } catch (e) {
    throw e instanceof LoadError ? e : new LoadError(`${label}: load from ${sourceDir(t, o.asOf)} failed: ${(e as Error).message}`);
  }
  // (one statement for both counts: a daily load runs a few hundred, each with its own fixed cost)
  const [counts] = await engine.all<{ audited: bigint; rows: bigint }>(
    `SELECT (SELECT ROW_COUNT FROM "OPS"."LOAD_AUDIT" WHERE SCHEMA_NAME = $1 AND TABLE_NAME = $2 AND AS_OF_DATE = CAST($3 AS DATE)) AS audited, (SELECT count(*) FROM ${target}) AS rows`,
    [t.schema, t.name, o.asOf],
  );
  result.stagedRows = Number(counts!.audited);
  result.tableRows = Number(counts!.rows);
  return result;
}

/** PII class by column: example rows in errors are shown masked (errors end up in logs and run manifests). */
const piiOf = (t: WarehouseTable) => new Map(t.columns.map((c) => [c.name, c.pii]));

/** Key columns must be non-null and unique within one snapshot, or the MERGE would be ambiguous: what is wrong, if anything. */
async function keyProblem(engine: Engine, t: WarehouseTable, relation: string, loadId?: string): Promise<string | undefined> {
  const keys = t.primaryKey.map((k) => d.ident(k));
  const load = loadId === undefined ? 'true' : `${d.ident('_LOAD_ID')} = ${d.string(loadId)}`;
  // One pass finds whether anything is wrong (null keys group together); the example rows are read only then.
  const anyNull = keys.map((k) => `${k} IS NULL`).join(' OR ');
  const wrong = await engine.all(`SELECT 1 FROM ${relation} WHERE ${load} GROUP BY ${keys.join(', ')} HAVING count(*) > 1 OR ${anyNull} LIMIT 1`);
  if (wrong.length === 0) return undefined;
  const nulls = await engine.all(`SELECT * FROM ${relation} WHERE ${load} AND (${keys.map((k) => `${k} IS NULL`).join(' OR ')}) LIMIT 3`);
  if (nulls.length) return `null key (${t.primaryKey.join(', ')}) e.g. ${JSON.stringify(maskRow(piiOf(t), nulls[0]!))}`;
  const dups = await engine.all(`SELECT ${keys.join(', ')}, count(*) AS n FROM ${relation} WHERE ${load} GROUP BY ALL HAVING count(*) > 1 ORDER BY n DESC LIMIT 3`);
  if (dups.length) return `duplicate key (${t.primaryKey.join(', ')}) e.g. ${JSON.stringify(maskRow(piiOf(t), dups[0]!))}`;
  return undefined;
}

/**
 * Loads every table's Gold snapshot of the as-of date in ONE transaction (schema changes included): readers, and a
 * load killed at any point, see all tables as the previous load left them or all of this load, never a mix. DuckDB
 * writes a large transaction's rows to the file as it goes and makes them visible only at COMMIT; a process killed
 * before COMMIT leaves them unreferenced (reclaimed at the next checkpoint).
 */
export async function loadWarehouse(
  engine: Engine,
  lake: Lake,
  o: { asOf: string; loadId: string; log?: Logger; tables?: readonly WarehouseTable[]; fullRefresh?: boolean },
): Promise<TableLoadResult[]> {
  const tables = o.tables ?? WAREHOUSE_TABLES;
  // Every table's snapshot must be there before anything is loaded: a run that would leave tables behind fails whole.
  // A dataset kept as one current version (the identity redirects) is absent until its job first writes it: its table
  // is created but not loaded (loading nothing would wipe it), and the load says so.
  const absent: string[] = [];
  const skipped = new Set<WarehouseTable>();
  const sources = new Map<WarehouseTable, TableSource>();
  for (const t of tables) {
    const source = await tableSource(lake, t, o.asOf);
    sources.set(t, source);
    if (source.files.length > 0 || source.state) continue;
    if (isCurrentVersion(t)) skipped.add(t);
    else absent.push(`${t.schema}.${t.name} (${sourceDir(t, o.asOf)})`);
  }
  if (absent.length) throw new LoadError(`No Gold snapshot as of ${o.asOf} for ${absent.length} warehouse table(s): ${absent.join(', ')}; nothing was loaded`);
  for (const t of skipped) o.log?.warn(`${t.schema}.${t.name}: ${sourceDir(t, o.asOf)} has not been written yet; table left as it is`);
  const out: TableLoadResult[] = [];
  await engine.run('BEGIN TRANSACTION');
  try {
    await ensureWarehouseSchema(engine, tables, { loadId: o.loadId, force: o.fullRefresh });
    const marks = marksFrom(await engine.all(renderMarksQuery(d)));
    for (const t of tables) {
      if (skipped.has(t)) continue;
      const started = Date.now();
      const r = await loadTable(engine, lake, t, { ...o, marks, source: sources.get(t) });
      r.ms = Date.now() - started;
      out.push(r);
      o.log?.info('warehouse table loaded (visible at commit)', { table: r.table, rows: r.tableRows });
    }
    await engine.run('COMMIT');
  } catch (e) {
    // (already rolled back when a first load's NOT NULL check failed)
    await engine.run('ROLLBACK').catch(() => undefined);
    throw e;
  }
  return out;
}
