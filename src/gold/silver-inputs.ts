// Registers the Silver datasets as as-of-cut views (s_<name>) on a scratch engine, so every Gold model reads the
// same inputs (views, not tables: each model then reads only the Parquet columns it needs): only rows whose contract event time is on or before the as-of date. A dataset that is not in the
// lake yet becomes an empty table with the contract's columns, so Gold runs (and says so) on a partial Silver.
import type { TableContract } from '../../schemas/contract.ts';
import { getContract } from '../../schemas/index.ts';
import { ident, litList, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { dateLit, silverDir } from './paths.ts';
import { duckdbType } from '../contracts/duckdb-types.ts';
import { parquetFiles } from '../lake/parquet.ts';
import { datasetDataFiles, dayPartitions, readDatasetState, type DatasetState } from '../catalogue/partitioned.ts';
import { partitionColumn } from '../silver/datasets.ts';

/** Gold's short names for the Silver tables it reads. */
export const SILVER_TABLES = {
  customers: 'CUSTOMERS',
  campaigns: 'MARKETING_CAMPAIGNS',
  transactions: 'CUSTOMER_TRANSACTIONS',
  items: 'CUSTOMER_TRANSACTION_ITEMS',
  sessions: 'CUSTOMER_SESSION_DATA',
  events: 'CUSTOMER_BEHAVIORAL_EVENTS',
  engagement: 'CUSTOMER_ENGAGEMENT_EVENTS',
  preferences: 'CUSTOMER_PREFERENCE_DATA',
  tickets: 'CUSTOMER_SERVICE_TICKETS',
  interactions: 'CUSTOMER_SERVICE_INTERACTIONS',
  ext_profiles: 'EXTERNAL_CUSTOMER_PROFILES',
  ext_sentiment: 'EXTERNAL_CUSTOMER_SENTIMENT',
} as const;
export type SilverName = keyof typeof SILVER_TABLES;

/** Standardisation columns Silver may add; used when present. */
const OPTIONAL_COLUMNS: Record<string, string> = { EMAIL_NORMALIZED: 'VARCHAR', PHONE_E164: 'VARCHAR' };

export interface SilverInputs {
  asOf: string;
  /** Row counts of the as-of-cut inputs (the crosswalk; the Silver tables are not counted: that would read their history). */
  rows: Record<string, number>;
  /** Silver datasets absent from the lake (read as empty). */
  missing: string[];
  /** Lake files read. */
  files: string[];
}

async function columnsOf(engine: Engine, relation: string): Promise<Set<string>> {
  const rows = await engine.all<{ column_name: string }>(`DESCRIBE ${relation}`);
  return new Set(rows.map((r) => r.column_name));
}

/**
 * Maps a Silver relation to the shape Gold relies on: every contract column cast to its type (null when absent),
 * CUSTOMER360_ID (falling back to CUSTOMER_ID one-to-one until identity resolution provides it), _source_system,
 * _quality_score.
 */
function projection(contract: TableContract, present: Set<string>): string {
  const cols = contract.columns.map((c) => {
    const type = duckdbType(c.type);
    return present.has(c.name) ? `CAST(${ident(c.name)} AS ${type}) AS ${ident(c.name)}` : `CAST(NULL AS ${type}) AS ${ident(c.name)}`;
  });
  const hasCustomer = contract.columns.some((c) => c.name === 'CUSTOMER_ID');
  if (hasCustomer) {
    cols.push(present.has('CUSTOMER360_ID') ? 'CAST(CUSTOMER360_ID AS VARCHAR) AS CUSTOMER360_ID' : 'CAST(CUSTOMER_ID AS VARCHAR) AS CUSTOMER360_ID');
  }
  for (const [name, type] of Object.entries(OPTIONAL_COLUMNS)) {
    if (contract.name === 'CUSTOMERS') cols.push(present.has(name) ? `CAST(${ident(name)} AS ${type}) AS ${name}` : `CAST(NULL AS ${type}) AS ${name}`);
  }
  cols.push(present.has('_source_system') ? 'CAST(_source_system AS VARCHAR) AS _source_system' : `'${contract.sourceSystem.replaceAll("'", "''")}' AS _source_system`);
  cols.push(present.has('_quality_score') ? 'CAST(_quality_score AS DOUBLE) AS _quality_score' : 'CAST(NULL AS DOUBLE) AS _quality_score');
  return cols.join(',\n  ');
}

function asOfFilter(name: SilverName, contract: TableContract, asOf: string): string {
  const d = dateLit(asOf);
  if (name === 'customers') return `WHERE REGISTRATION_DATE IS NULL OR REGISTRATION_DATE <= ${d}`;
  if (name === 'items') return 'WHERE TRANSACTION_ID IN (SELECT TRANSACTION_ID FROM s_transactions)';
  if (contract.eventTime) return `WHERE CAST(${ident(contract.eventTime)} AS DATE) <= ${d}`;
  return '';
}

/** Lake folder of a Silver table by Gold's short name. */
export const silverPathOf = (name: SilverName) => silverDir(getContract(SILVER_TABLES[name]).bronzeDir);

/**
 * A view `view` over some files of one Silver table, in the shape Gold relies on (projection above), no as-of cut:
 * the daily aggregates read the partitions of the days they rebuild this way.
 */
export async function silverFilesView(engine: Engine, lake: Lake, name: SilverName, files: readonly string[], view: string): Promise<void> {
  const contract = getContract(SILVER_TABLES[name]);
  const raw = `raw_${view}`;
  if (files.length === 0) {
    const empty = contract.columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${ident(c.name)}`).join(', ');
    await engine.run(`CREATE OR REPLACE TEMP VIEW ${raw} AS SELECT ${empty} WHERE false`);
  } else {
    const local = await Promise.all(files.map((f) => lake.localPath(f)));
    await engine.run(`CREATE OR REPLACE TEMP VIEW ${raw} AS SELECT * FROM read_parquet(${litList(local)}, union_by_name = true, hive_partitioning = false)`);
  }
  await engine.run(`CREATE OR REPLACE TEMP VIEW ${view} AS SELECT\n  ${projection(contract, await columnsOf(engine, raw))}\nFROM ${raw}`);
}

/**
 * The s_ relations SQL reads (`s_<name>`), with those they are built from: what registerSilverInputs must register
 * for that SQL (a view over a Silver table binds every file's footer, so a job registers only what it reads).
 */
export function silverRelationsRead(sqls: readonly string[], o: { purchasers?: boolean } = {}): Set<string> {
  const out = new Set(sqls.flatMap((q) => [...q.matchAll(/\bs_(\w+)\b/g)].map((m) => m[1]!)));
  if (out.has('crosswalk')) out.add('universe');
  if (out.has('universe')) out.add('customers');
  if (out.has('universe') && !o.purchasers) out.add('transactions');
  if (out.has('items')) out.add('transactions');
  return out;
}

/**
 * Reads the Silver datasets, applies the as-of cut, and creates views s_<name> plus tables s_universe, s_crosswalk
 * and s_first_day_<name>; `only` (silverRelationsRead): just the relations named. `purchasers`: a query giving the
 * persons with a transaction up to the as-of date (the lifetime totals' persons with transactions), instead of
 * every transaction of s_transactions, for s_universe.
 */
export async function registerSilverInputs(engine: Engine, lake: Lake, asOf: string, only?: ReadonlySet<string>, o: { purchasers?: string } = {}): Promise<SilverInputs> {
  const out: SilverInputs = { asOf, rows: {}, missing: [], files: [] };
  const wanted = (r: string) => !only || only.has(r);
  // Transactions first: items are cut through them.
  const order: SilverName[] = ['transactions', ...(Object.keys(SILVER_TABLES) as SilverName[]).filter((n) => n !== 'transactions')];
  for (const name of order) {
    const column = partitionColumn(getContract(SILVER_TABLES[name]));
    const firstDay = column !== undefined && wanted(`first_day_${name}`);
    if (!wanted(name) && !firstDay) continue;
    const contract = getContract(SILVER_TABLES[name]);
    // The files the dataset's state names (partitioned Silver), else every file of a dataset written whole.
    const state = await readDatasetState(lake, silverDir(contract.bronzeDir));
    if (!wanted(name) && state) {
      // Only its first day, which the state says.
      await registerFirstDay(engine, name, state, asOf, column!);
      continue;
    }
    const files = await datasetDataFiles(lake, silverDir(contract.bronzeDir), state);
    const raw = `raw_${name}`;
    if (files.length === 0) {
      out.missing.push(contract.name);
      const empty = contract.columns.map((c) => `CAST(NULL AS ${duckdbType(c.type)}) AS ${ident(c.name)}`).join(', ');
      await engine.run(`CREATE OR REPLACE TEMP VIEW ${raw} AS SELECT ${empty} WHERE false`);
    } else {
      const local = await Promise.all(files.map((f) => lake.localPath(f)));
      out.files.push(...files);
      await engine.run(`CREATE OR REPLACE TEMP VIEW ${raw} AS SELECT * FROM read_parquet(${litList(local)}, union_by_name = true, hive_partitioning = false)`);
    }
    const present = await columnsOf(engine, raw);
    await engine.run(`CREATE OR REPLACE TEMP VIEW s_${name} AS SELECT\n  ${projection(contract, present)}\nFROM ${raw}\n${asOfFilter(name, contract, asOf)}`);
    // s_first_day_<name>: the first event date on or before the as-of date, from the partition values of the state
    // (a partition holds the rows of its date) rather than a scan of every row; a dataset written whole is scanned.
    if (firstDay) await registerFirstDay(engine, name, state, asOf, column!);
  }
  if (wanted('crosswalk') || wanted('universe')) await registerCrosswalk(engine, lake, out, o.purchasers ?? 'SELECT CUSTOMER360_ID FROM s_transactions');
  return out;
}

async function registerFirstDay(engine: Engine, name: SilverName, state: DatasetState | undefined, asOf: string, column: string): Promise<void> {
  const days = state ? dayPartitions(state).filter((p) => p <= asOf).sort() : [];
  const first = state ? (days[0] ? `DATE '${days[0]}'` : 'CAST(NULL AS DATE)') : `(SELECT min(CAST(${ident(column)} AS DATE)) FROM s_${name})`;
  await engine.run(`CREATE OR REPLACE TEMP TABLE s_first_day_${name} AS SELECT ${first} AS FIRST_DATE`);
}

/**
 * The identity crosswalk from Silver, limited to people known by the as-of date (a customer record or a transaction
 * on or before it); without a crosswalk, each customer record maps to itself (CUSTOMER360_ID from Silver).
 */
async function registerCrosswalk(engine: Engine, lake: Lake, out: SilverInputs, purchasers: string): Promise<void> {
  const files = await parquetFiles(lake, silverDir('identity/crosswalk'));
  let source: string;
  if (files.length === 0) {
    out.missing.push('identity/crosswalk');
    source = 'SELECT _source_system AS SOURCE_SYSTEM, CUSTOMER_ID, CUSTOMER360_ID FROM s_customers';
  } else {
    const local = await Promise.all(files.map((f) => lake.localPath(f)));
    out.files.push(...files);
    source = `SELECT CAST(SOURCE_SYSTEM AS VARCHAR) AS SOURCE_SYSTEM, CAST(CUSTOMER_ID AS VARCHAR) AS CUSTOMER_ID, CAST(CUSTOMER360_ID AS VARCHAR) AS CUSTOMER360_ID FROM read_parquet(${litList(local)}, union_by_name = true)`;
  }
  await engine.run(`CREATE OR REPLACE TEMP TABLE s_universe AS
SELECT DISTINCT CUSTOMER360_ID FROM (
  SELECT CUSTOMER360_ID FROM s_customers UNION ALL ${purchasers}
) WHERE CUSTOMER360_ID IS NOT NULL`);
  // One row per (SOURCE_SYSTEM, CUSTOMER_ID): a crosswalk listing a pair twice keeps the smallest CUSTOMER360_ID.
  await engine.run(`CREATE OR REPLACE TEMP TABLE s_crosswalk AS
SELECT SOURCE_SYSTEM, CUSTOMER_ID, min(CUSTOMER360_ID) AS CUSTOMER360_ID
FROM (${source}) x
WHERE CUSTOMER_ID IS NOT NULL AND CUSTOMER360_ID IN (SELECT CUSTOMER360_ID FROM s_universe)
GROUP BY SOURCE_SYSTEM, CUSTOMER_ID`);
  out.rows.crosswalk = Number(await engine.scalar('SELECT count(*) FROM s_crosswalk'));
}

/** The latest event date in the Silver data (the default as-of date), or undefined when Silver holds no events. */
export async function latestEventDate(engine: Engine, lake: Lake): Promise<string | undefined> {
  const parts: string[] = [];
  for (const name of Object.keys(SILVER_TABLES) as SilverName[]) {
    const contract = getContract(SILVER_TABLES[name]);
    // Campaigns are planned ahead (START_DATE may lie in the future); they do not move the default as-of date.
    if (!contract.eventTime || name === 'campaigns') continue;
    const files = await datasetDataFiles(lake, silverDir(contract.bronzeDir));
    if (files.length === 0) continue;
    const local = await Promise.all(files.map((f) => lake.localPath(f)));
    parts.push(`SELECT max(CAST(${ident(contract.eventTime)} AS DATE)) AS d FROM read_parquet(${litList(local)}, union_by_name = true, hive_partitioning = false)`);
  }
  if (parts.length === 0) return undefined;
  const d = await engine.scalar<string | null>(`SELECT CAST(max(d) AS VARCHAR) FROM (${parts.join(' UNION ALL ')})`);
  return d ?? undefined;
}
