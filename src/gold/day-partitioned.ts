// Gold datasets partitioned by day (event_date=D/, `_state.json` like Silver's) and maintained for the touched days
// only: the daily aggregates and the large facts (events, transactions, line items, interactions, sessions). The
// Silver change logs (the `changes` entries of each source's _state.json since the sequence number the dataset
// consumed) say which days changed; those days are recomputed whole from the same days' Silver partitions (a row's
// day is its source row's partition), everything else is kept. A day's rows depend only on that day's Silver rows,
// plus, for two kinds of source, rows found through a key:
//   items     (Silver keeps line items in one file): the items of the day's transactions; a day is touched when a
//             staged item of one of its transactions changed (staging's change files name the items, the
//             transactions' key index their day)
//   related   rows of another table reached by a key (the events of a day's sessions): a day is touched when a
//             changed partition of that table holds the key of one of its rows (the key index gives the day)
// so maintaining day by day gives what one rebuild gives. Readers take the partitions up to their as-of date.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { getContract } from '../../schemas/index.ts';
import type { ComputeParams, Dataset } from '../catalogue/dataset.ts';
import {
  changesSince, commitInputsOnly, commitPartitions, datasetDataFiles, dayPartitions, emptyDatasetState, isDayPartition, partitionSql, readDatasetSql, readDatasetState, type DatasetState,
} from '../catalogue/partitioned.ts';
import { conformSql, emptySql } from '../catalogue/runner.ts';
import { ident, type Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import type { JobContext } from '../runtime/job.ts';
import { keyIndexSql } from '../silver/incremental.ts';
import { partitionColumn } from '../silver/datasets.ts';
import { STAGING_ROOT } from '../silver/paths.ts';
import { addDays } from '../runtime/days.ts';
import { dateLit } from './paths.ts';
import { SILVER_TABLES, silverFilesView, silverPathOf, type SilverName } from './silver-inputs.ts';

/** A day-partitioned Gold dataset: the catalogue declaration plus what the maintainer needs. */
export interface DayPartitioned extends Dataset {
  /** Silver tables (Gold short names) a day's rows are computed from. */
  sources: readonly SilverName[];
  /** The day column of the rows (DATE or TIMESTAMP): its date names the row's partition. */
  dayColumn: string;
  /** The day rows from views <prefix><short> over the touched days' Silver rows (default: `sql` read over those views). */
  daySql?(prefix: string): string;
  /**
   * Sources read through a key rather than by day: `events: { key: 'SESSION_ID', of: 'sessions' }` reads the events
   * of the day's sessions (from the event partitions the events' key index names), and touches the days of sessions
   * whose events changed.
   */
  related?: Partial<Record<SilverName, { key: string; of: SilverName }>>;
  /**
   * Sources whose rows of the N days before a day enter that day's rows (a window: attribution's touches before a
   * conversion), from the run's parameters: a changed day of such a source touches itself and the N days after it,
   * and a touched day reads that source's N days before it too.
   */
  lookback?(params: ComputeParams): Partial<Record<SilverName, number>>;
  /** An input besides Silver whose rows a day reads (personalization's recommendation runs). */
  extra?: ExtraInput;
}

/**
 * An input besides Silver: `fingerprint` says what it holds as of the run (recorded with what the dataset consumed),
 * `touches` names the held days whose rows a change between two fingerprints can alter, and `register` creates the
 * relations the day SQL reads for the days recomputed (undefined: every day, a Silver read whole).
 */
export interface ExtraInput {
  fingerprint(lake: Lake, asOf: string): Promise<Record<string, string>>;
  touches(before: Record<string, string>, now: Record<string, string>, days: readonly string[]): string[];
  register(engine: Engine, lake: Lake, now: Record<string, string>, days: readonly string[] | undefined): Promise<string[]>;
}

/** What a day-partitioned dataset has consumed: each source's Silver commit sequence number (items: staged). */
interface DayInputs {
  silver: Record<string, number>;
  /** The staged items sequence number the published items reflected (items change through staging's change files). */
  itemsStaged?: number;
  /** Hash of the day SQL and columns the days were computed with: another definition (new code) recomputes every day. */
  definition?: string;
  /** The fingerprint of the input besides Silver (DayPartitioned.extra). */
  extra?: Record<string, string>;
}

export interface MaintainResult {
  mode: 'full' | 'incremental' | 'unchanged';
  /** Days recomputed. */
  days: number;
  rows: number;
  /** Silver files read. */
  files: string[];
  /** The state committed (absent when nothing was). */
  state?: DatasetState;
}

/** Days (partition values) of a Silver state, without the partition of undated rows. */
const stagedPath = (s: SilverName) => `${STAGING_ROOT}/${getContract(SILVER_TABLES[s]).bronzeDir}`;
const contractOf = (s: SilverName) => getContract(SILVER_TABLES[s]);

/** Days of the partitions of `of` holding a key (column `key`) among the values of relation `keys` (column v). */
async function daysWithKeys(engine: Engine, lake: Lake, of: SilverName, key: string, keys: string): Promise<string[]> {
  const st = await readDatasetState(lake, stagedPath(of));
  if (!st) return [];
  const c = contractOf(of);
  const index = await keyIndexSql(lake, c, st, partitionSql(partitionColumn(c)));
  const rows = await engine.all<{ p: string }>(`SELECT DISTINCT __p AS p FROM ${index} WHERE CAST(${ident(key)} AS VARCHAR) IN (SELECT v FROM ${keys})`);
  return rows.map((r) => r.p).filter(isDayPartition);
}

/**
 * Brings one day-partitioned dataset up to date with Silver: recomputes the days the Silver change logs name since
 * what it consumed (every day on a full refresh, a first run, or when a change log no longer reaches back), commits
 * them with the consumed sequence numbers (data first, then state: a crash leaves the old state, and the re-run
 * rewrites the same files).
 */
export async function maintainDayPartitioned(ctx: JobContext, engine: Engine, ds: DayPartitioned, o: {
  full: boolean;
  params?: ComputeParams;
  /** Called before the commit with the files of the days being replaced and the commit's relation (their new rows, `__p`). */
  beforeCommit?(c: { full: boolean; replaced: readonly string[]; relation: string }): Promise<void>;
}): Promise<MaintainResult> {
  const lake = ctx.lake;
  const prev = await readDatasetState(lake, ds.path);
  const consumed = prev?.inputs as DayInputs | undefined;
  const related = ds.related ?? {};
  const byDay = ds.sources.filter((s) => s !== 'items' && !related[s]);
  for (const s of byDay) if (!partitionColumn(contractOf(s))) throw new Error(`${ds.name}: ${SILVER_TABLES[s]} has no event date partitions to read by day`);
  const states = new Map<SilverName, DatasetState | undefined>();
  // A Silver dataset written whole (no _state.json: an older lake, a test fixture) has no change log: every run
  // rebuilds from all of its files, and records -1 as consumed so the next run does again.
  let whole = false;
  for (const s of ds.sources) {
    const st = await readDatasetState(lake, silverPathOf(s));
    states.set(s, st);
    if (!st && (await datasetDataFiles(lake, silverPathOf(s))).length) whole = true;
  }
  const seqs = Object.fromEntries(ds.sources.map((s) => [s, states.get(s) ? states.get(s)!.seq : whole ? -1 : 0]));
  const definition = createHash('sha256').update(`${daySql(ds, o.params)}\n${JSON.stringify(ds.columns)}`).digest('hex').slice(0, 16);
  const inputs: DayInputs = { silver: seqs, definition };
  const items = ds.sources.includes('items');
  if (items) inputs.itemsStaged = ((states.get('items')?.inputs.staged ?? {}) as Record<string, number>)[SILVER_TABLES.items] ?? 0;
  // A changed definition would leave the days it does not touch computed the old way: recompute them all, once.
  if (ds.extra) inputs.extra = await ds.extra.fingerprint(lake, (o.params ?? missingParams(ds)).asOf);
  let full = o.full || !prev || !consumed?.silver || whole || (items && consumed.itemsStaged === undefined) || consumed.definition !== definition
    || (ds.extra !== undefined && consumed.extra === undefined);
  const back = ds.lookback ? ds.lookback(o.params ?? missingParams(ds)) : {};
  // The latest day the day-sources hold: a lookback source's change touches the days after it up to there.
  const lastHeld = byDay.flatMap((s) => dayPartitions(states.get(s))).sort().at(-1) ?? '';
  const touched = new Set<string>();
  /** Adds the days of the rows of `of` whose `col` is among the values of `col` in `files` (change files or partitions). */
  const touchKeys = async (files: string[], col: string, of: SilverName) => {
    if (files.length === 0) return;
    await engine.run(`CREATE OR REPLACE TEMP TABLE dp_changed_keys AS SELECT DISTINCT CAST(${ident(col)} AS VARCHAR) AS v FROM ${await readDatasetSql(lake, files, '')} WHERE ${ident(col)} IS NOT NULL`);
    for (const p of await daysWithKeys(engine, lake, of, col, 'dp_changed_keys')) touched.add(p);
  };
  if (!full) {
    for (const s of ds.sources) {
      if (s === 'items') continue;
      const ch = changesSince(states.get(s) ?? emptyDatasetState(), consumed!.silver[s] ?? 0);
      if (!ch) {
        full = true;
        break;
      }
      const parts = ch.flatMap((e) => e.partitions).filter(isDayPartition);
      const r = related[s];
      if (!r) {
        for (const p of parts) for (let i = 0; i <= (back[s] ?? 0); i++) if (i === 0 || addDays(p, i) <= lastHeld) touched.add(addDays(p, i));
        continue;
      }
      // A related table's changed partitions: the days of the rows their keys reach.
      await touchKeys([...new Set(parts)].flatMap((p) => states.get(s)?.partitions[p] ?? []), r.key, r.of);
    }
    if (!full && items) {
      // Items changed in staging since what the last maintained publish reflected: their transactions' days.
      const st = await readDatasetState(lake, stagedPath('items'));
      const ch = changesSince(st ?? emptyDatasetState(), consumed!.itemsStaged ?? 0)?.filter((e) => e.seq <= inputs.itemsStaged!);
      // (an entry without its change file cannot say which items changed)
      if (!ch || ch.some((e) => !e.file)) full = true;
      else await touchKeys(ch.map((e) => e.file!), 'TRANSACTION_ID', 'transactions');
    }
    // Days no day-source holds any more (retention dropped their Silver partitions): recomputed, i.e. removed.
    const held = new Set(byDay.flatMap((s) => dayPartitions(states.get(s))));
    if (!full) for (const p of Object.keys(prev!.partitions)) if (!held.has(p)) touched.add(p);
    if (!full && ds.extra) for (const p of ds.extra.touches(consumed!.extra!, inputs.extra!, [...held].sort())) touched.add(p);
  }
  if (full) {
    touched.clear();
    for (const s of byDay) for (const p of dayPartitions(states.get(s))) touched.add(p);
    for (const p of Object.keys(prev?.partitions ?? {})) touched.add(p);
  }
  if (touched.size === 0 && !whole) {
    if (prev && JSON.stringify(consumed) !== JSON.stringify(inputs)) await commitInputsOnly(lake, ds.path, prev, inputs as unknown as Record<string, unknown>);
    return { mode: 'unchanged', days: 0, rows: 0, files: [] };
  }
  const files: string[] = [];
  const viewDays = [...touched].sort();
  const view = async (s: SilverName, f: string[]) => {
    files.push(...f);
    await silverFilesView(engine, lake, s, f, `d_${s}`);
  };
  for (const s of byDay) {
    const st = states.get(s);
    // (a lookback source: the touched days and the N days before each)
    const read = back[s] ? [...new Set(viewDays.flatMap((p) => Array.from({ length: back[s]! + 1 }, (_, i) => addDays(p, -i))))].sort() : viewDays;
    await view(s, st ? read.flatMap((p) => st.partitions[p] ?? []) : await datasetDataFiles(lake, silverPathOf(s)));
  }
  for (const [s, r] of Object.entries(related) as [SilverName, { key: string; of: SilverName }][]) {
    // The related rows of the day rows: from the partitions the key index names for their keys.
    const keys = `dp_keys_${s}`;
    await engine.run(`CREATE OR REPLACE TEMP TABLE ${keys} AS SELECT DISTINCT CAST(${ident(r.key)} AS VARCHAR) AS v FROM d_${r.of} WHERE ${ident(r.key)} IS NOT NULL`);
    const st = states.get(s);
    const parts = st ? await daysWithKeys(engine, lake, s, r.key, keys) : [];
    files.push(...(st ? parts.flatMap((p) => st.partitions[p] ?? []) : []));
    await silverFilesView(engine, lake, s, st ? parts.flatMap((p) => st.partitions[p] ?? []) : await datasetDataFiles(lake, silverPathOf(s)), `dr_${s}`);
    await engine.run(`CREATE OR REPLACE TEMP VIEW d_${s} AS SELECT * FROM dr_${s} WHERE CAST(${ident(r.key)} AS VARCHAR) IN (SELECT v FROM ${keys})`);
  }
  if (items) {
    // Line items live in one Silver file: the rows of the touched days' transactions (a scan of that file).
    const f = await datasetDataFiles(lake, silverPathOf('items'), states.get('items'));
    files.push(...f);
    await silverFilesView(engine, lake, 'items', f, 'dr_items');
    await engine.run('CREATE OR REPLACE TEMP VIEW d_items AS SELECT * FROM dr_items WHERE TRANSACTION_ID IN (SELECT TRANSACTION_ID FROM d_transactions)');
  }
  if (ds.extra) files.push(...(await ds.extra.register(engine, lake, inputs.extra!, whole ? undefined : viewDays)));
  const shaped = await conformSql(engine, ds, daySql(ds, o.params));
  const day = ident(ds.dayColumn);
  const order = [day, ...ds.primaryKey.filter((k) => k !== ds.dayColumn).map(ident)].join(', ');
  // Dated rows only (undated rows have no day); a row's day is its source row's partition, so the rows fall in the
  // touched days, except when a source without state was read whole: then its days are only known now.
  await engine.run(`CREATE OR REPLACE TEMP TABLE dp_out AS SELECT * FROM (SELECT *, strftime(CAST(${day} AS DATE), '%Y-%m-%d') AS __p FROM (${shaped}))
WHERE __p IS NOT NULL ORDER BY ${order}`);
  for (const r of await engine.all<{ p: string }>('SELECT DISTINCT __p AS p FROM dp_out')) {
    if (!touched.has(r.p) && !whole) throw new Error(`${ds.name}: computed rows for day ${r.p}, which no changed Silver partition holds`);
    touched.add(r.p);
  }
  const days = [...touched].sort();
  // (a full recompute keeps the lineage: its change entry names every day, so a consumer still sees what changed)
  const base = full ? { ...emptyDatasetState(), seq: prev?.seq ?? 0, partitions: prev?.partitions ?? {}, ...(prev?.lineage ? { lineage: prev.lineage } : {}) } : prev!;
  await o.beforeCommit?.({ full, replaced: days.flatMap((p) => prev?.partitions[p] ?? []), relation: 'dp_out' });
  const r = await commitPartitions(engine, lake, ds.path, base, {
    relation: 'dp_out',
    touched: days,
    inputs: inputs as unknown as Record<string, unknown>,
    tmpDir: join(ctx.home, 'tmp', 'gold'),
    fault: `${ds.job}:${ds.name}`,
  });
  ctx.report.outputs.push(...r.written);
  return { mode: full ? 'full' : 'incremental', days: days.length, rows: r.rows, files, state: r.state };
}

/** A day's rows: the declared day SQL, else the dataset's SQL with its Silver views s_<short> read as d_<short>. */
function daySql(ds: DayPartitioned, params: ComputeParams | undefined): string {
  if (ds.daySql) return ds.daySql('d_');
  if (!ds.sql || !params) throw new Error(`${ds.name}: a day-partitioned dataset needs daySql, or sql and the run's parameters`);
  return ds.sql(params).replace(/\bs_(\w+)\b/g, 'd_$1');
}

function missingParams(ds: Dataset): never {
  throw new Error(`${ds.name}: a dataset with a lookback window or an input besides Silver needs the run's parameters`);
}

const SAMPLE_PARAMS: ComputeParams = { asOf: '2000-01-01', attributionWindowDays: 7 };

/**
 * A Gold SQL dataset maintained by day: its SQL (over the s_<short> Silver views) computes the rows of any set of
 * days from those days' Silver rows; the Silver tables it reads are its sources.
 */
export function byDay(ds: Dataset, o: { dayColumn: string; related?: DayPartitioned['related']; lookback?: DayPartitioned['lookback']; extra?: ExtraInput }): DayPartitioned {
  if (!ds.sql) throw new Error(`${ds.name}: byDay needs a SQL dataset`);
  const sources = [...new Set([...ds.sql(SAMPLE_PARAMS).matchAll(/\bs_(\w+)\b/g)].map((m) => m[1]!))];
  for (const s of sources) if (!(s in SILVER_TABLES)) throw new Error(`${ds.name}: reads s_${s}, which is not a Silver table a day can be read from`);
  return { ...ds, maintenance: 'incremental-by-time', dayColumn: o.dayColumn, sources: sources as SilverName[], ...(o.related ? { related: o.related } : {}), ...(o.lookback ? { lookback: o.lookback } : {}), ...(o.extra ? { extra: o.extra } : {}) };
}

/** Files of a day-partitioned dataset up to the as-of date (all of them for one written whole, without state). */
export async function dayPartitionFiles(lake: Lake, path: string, asOf: string): Promise<string[]> {
  const state = await readDatasetState(lake, path);
  if (!state) return datasetDataFiles(lake, path);
  return Object.entries(state.partitions).filter(([p]) => p <= asOf).flatMap(([, f]) => f).sort();
}

/** A view `view` over a day-partitioned dataset cut at the as-of date (an empty relation with its columns when absent). */
export async function registerDayPartitioned(engine: Engine, lake: Lake, ds: Dataset & { dayColumn: string }, asOf: string, view: string): Promise<string[]> {
  const files = await dayPartitionFiles(lake, ds.path, asOf);
  await engine.run(`CREATE OR REPLACE TEMP VIEW ${view} AS SELECT * FROM ${await readDatasetSql(lake, files, emptySql(ds))} WHERE CAST(${ident(ds.dayColumn)} AS DATE) <= ${dateLit(asOf)}`);
  return files;
}
