// Silver step 3 (per table): staged rows + CUSTOMER360_ID + cross-table checks + quality score -> the Silver dataset.
// Incremental: only the partitions whose rows can have changed are re-published: those staging rewrote, those with
// rows reaching a changed row of a table their checks read (CHECKS refs), and those with rows of a customer whose
// crosswalk entry changed. `fullRefresh=true` re-publishes everything.
import { ALL_CONTRACTS, getContract } from '../schemas/index.ts';
import type { TableContract } from '../schemas/contract.ts';
import type { Job } from '../src/runtime/job.ts';
import { ident, lit, type Engine } from '../src/engine/duckdb.ts';
import type { Lake } from '../src/lake/lake.ts';
import { CHECKS, stagedView } from '../src/silver/checks.ts';
import { IDENTITY_PATHS } from '../src/silver/paths.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { conformSql, emptySql } from '../src/catalogue/runner.ts';
import {
  changesDir, changesSince, commitPartitions, emptyDatasetState, readDatasetSql, readDatasetState, type DatasetState,
} from '../src/catalogue/partitioned.ts';
import { isPartitioned, partitionColumn, rowPartitionSql, silverName, stagedName } from '../src/silver/datasets.ts';
import { flagCountsSql, hasCustomerId, publishSql, qualityMetricsSql } from '../src/silver/publish.ts';
import { keyIndexSql, keyMatch, truthy } from '../src/silver/incremental.ts';
import { dedupeKey } from '../src/silver/standardise-table.ts';
import { UsageError } from '../src/runtime/errors.ts';
import { commitQuery } from '../src/lake/parquet.ts';
import { joinLake } from '../src/lake/lake.ts';
import { join } from 'node:path';

interface PublishInputs {
  /** Staging sequence numbers consumed: this table's and each needed table's. */
  staged: Record<string, number>;
  /** Copy of the crosswalk the published rows were stamped from (to find changed customers next time). */
  crosswalk?: string;
}

const stagedPathOf = (c: TableContract) => getDataset(stagedName(c)).path;

/**
 * Partitions of the staged rows matching a row of relation `values` on every pair [staged column, values column],
 * from the key index.
 */
async function partitionsWith(engine: Engine, lake: Lake, c: TableContract, staged: DatasetState, on: readonly (readonly [string, string])[], values: string): Promise<string[]> {
  if (Object.keys(staged.partitions).length === 0) return [];
  const index = await keyIndexSql(lake, c, staged, rowPartitionSql(c));
  const cond = on.map(([a, b]) => `CAST(i.${ident(a)} AS VARCHAR) = CAST(v.${ident(b)} AS VARCHAR)`).join(' AND ');
  const rows = await engine.all<{ p: string }>(`SELECT DISTINCT i.__p AS p FROM ${index} i SEMI JOIN ${values} v ON ${cond}`);
  return rows.map((r) => r.p);
}

/** Adds to temp table repub_keys the keys of the staged rows matching a row of `values` (as partitionsWith). */
async function keysWith(engine: Engine, lake: Lake, c: TableContract, staged: DatasetState, on: readonly (readonly [string, string])[], values: string): Promise<void> {
  if (Object.keys(staged.partitions).length === 0) return;
  const index = await keyIndexSql(lake, c, staged, rowPartitionSql(c));
  const cond = on.map(([a, b]) => `CAST(i.${ident(a)} AS VARCHAR) = CAST(v.${ident(b)} AS VARCHAR)`).join(' AND ');
  await engine.run(`INSERT INTO repub_keys SELECT ${dedupeKey(c).map((k) => `i.${ident(k)}`).join(', ')} FROM ${index} i SEMI JOIN ${values} v ON ${cond}`);
}

export const silverPublishJob: Job = {
  name: 'silver-publish',
  description: 'Publish one Silver table: stamp CUSTOMER360_ID from the crosswalk, run cross-table checks, score each record (the partitions that can have changed)',
  params: [
    { name: 'table', description: 'Contract table name', required: true, type: { kind: 'table' } },
    { name: 'tenant', description: "Tenant id (default 'default')" },
    { name: 'fullRefresh', description: "'true': re-publish every partition", type: { kind: 'bool' } },
  ],
  async run(ctx) {
    const contract = getContract(ctx.params.table ?? '');
    const tenant = ctx.params.tenant || 'default';
    const ds = getDataset(silverName(contract));
    const staged = await readDatasetState(ctx.lake, stagedPathOf(contract));
    if (!staged) throw new UsageError(`${stagedPathOf(contract)} has no state: run silver-standardise for ${contract.name} first`);
    const needs = (CHECKS[contract.name]?.needs ?? []).map(getContract);
    const needStates = new Map<string, DatasetState>();
    for (const n of needs) {
      const s = await readDatasetState(ctx.lake, stagedPathOf(n));
      if (s) needStates.set(n.name, s);
    }
    const previous = await readDatasetState(ctx.lake, ds.path);
    const prevInputs = previous?.inputs as PublishInputs | undefined;
    // (a table now partitioned, published as one file before: re-published whole into its partitions)
    const full = truthy(ctx.params.fullRefresh) || !previous || !prevInputs?.staged || (isPartitioned(contract) && previous.partitions[''] !== undefined);
    const partition = rowPartitionSql(contract);
    const engine = await ctx.openEngine();
    try {
      // The crosswalk, and which customers' entries changed since the last publish.
      const hasCw = await ctx.lake.exists(IDENTITY_PATHS.crosswalk);
      if (hasCw) {
        await engine.run(`CREATE TABLE cw AS SELECT TENANT_ID, SOURCE_SYSTEM, CUSTOMER_ID, CUSTOMER360_ID FROM read_parquet(${lit(await ctx.lake.localPath(IDENTITY_PATHS.crosswalk))})`);
        ctx.report.inputs.push(IDENTITY_PATHS.crosswalk);
      } else {
        await engine.run('CREATE TABLE cw (TENANT_ID VARCHAR, SOURCE_SYSTEM VARCHAR, CUSTOMER_ID VARCHAR, CUSTOMER360_ID VARCHAR)');
        ctx.log.warn('no identity crosswalk yet: CUSTOMER360_ID stays null', { table: contract.name });
      }
      const stagedParts = Object.keys(staged.partitions);
      // An unpartitioned table, or line items (partitioned by load, not by day), re-publishes the rows that can have
      // changed, found by key, and keeps the others of their partitions as published: its checks then read the other
      // tables' rows those rows reach, not every transaction day. (Customers stay whole: near-duplicates compare
      // every row.) Items' partitions to rewrite are those staging rewrote (the changed items' new and old loads)
      // and those holding an item whose transaction changed.
      const rowLevel = !full && !partitionColumn(contract) && contract.name !== 'CUSTOMERS';
      const keyCols = dedupeKey(contract).map(ident).join(', ');
      if (rowLevel) await engine.run(`CREATE TEMP TABLE repub_keys AS SELECT ${keyCols} FROM ${await readDatasetSql(ctx.lake, [], emptySql(getDataset(stagedName(contract))))}`);
      let touched: string[];
      let reason: Record<string, number> = {};
      if (full) {
        touched = [...new Set([...stagedParts, ...Object.keys(previous?.partitions ?? {}), ...(isPartitioned(contract) ? [] : [''])])].sort();
        if (isPartitioned(contract)) touched = touched.filter((p) => p !== '');
      } else {
        const set = new Set<string>();
        const add = (why: string, ps: string[]) => {
          reason[why] = ps.length;
          for (const p of ps) set.add(p);
        };
        const self = changesSince(staged, prevInputs!.staged[contract.name] ?? -1);
        const needCh = needs.map((n) => [n, changesSince(needStates.get(n.name) ?? emptyDatasetState(), prevInputs!.staged[n.name] ?? 0)] as const);
        if (!self || needCh.some(([, ch]) => !ch)) {
          touched = [...new Set([...stagedParts, ...Object.keys(previous!.partitions)])].sort();
          reason = { changeLogTooShort: touched.length };
          if (rowLevel) await engine.run(`INSERT INTO repub_keys SELECT ${keyCols} FROM ${await keyIndexSql(ctx.lake, contract, staged, partition)}`);
        } else {
          add('staged', self.flatMap((e) => e.partitions));
          const changeFiles = self.flatMap((e) => (e.file ? [e.file] : []));
          // (a staging commit without its change file cannot say which rows changed: re-publish them all)
          const wholeTable = rowLevel && self.some((e) => !e.file);
          if (rowLevel && changeFiles.length) await engine.run(`INSERT INTO repub_keys SELECT DISTINCT ${keyCols} FROM ${await readDatasetSql(ctx.lake, changeFiles, '')}`);
          const refs = CHECKS[contract.name]?.refs ?? {};
          for (const [n, ch] of needCh) {
            const files = ch!.flatMap((e) => (e.file ? [e.file] : []));
            if (files.length === 0) continue;
            const key = n.primaryKey[0]!;
            await engine.run(`CREATE OR REPLACE TEMP TABLE ref_keys AS SELECT DISTINCT ${ident(key)} AS v FROM ${await readDatasetSql(ctx.lake, files, '')}`);
            add(`ref:${n.name}`, await partitionsWith(engine, ctx.lake, contract, staged, [[refs[n.name]!, 'v']], 'ref_keys'));
            if (rowLevel) await keysWith(engine, ctx.lake, contract, staged, [[refs[n.name]!, 'v']], 'ref_keys');
          }
          const selfCols = CHECKS[contract.name]?.self;
          const selfFiles = self.flatMap((e) => (e.file ? [e.file] : []));
          if (selfCols && selfFiles.length) {
            await engine.run(`CREATE OR REPLACE TEMP TABLE ref_keys AS SELECT DISTINCT ${selfCols.map(ident).join(', ')} FROM ${await readDatasetSql(ctx.lake, selfFiles, '')}`);
            add('self', await partitionsWith(engine, ctx.lake, contract, staged, selfCols.map((x) => [x, x] as const), 'ref_keys'));
            if (rowLevel) await keysWith(engine, ctx.lake, contract, staged, selfCols.map((x) => [x, x] as const), 'ref_keys');
          }
          if (hasCustomerId(contract) || contract.name === 'CUSTOMERS') {
            const before = prevInputs!.crosswalk && (await ctx.lake.exists(prevInputs!.crosswalk))
              ? `read_parquet(${lit(await ctx.lake.localPath(prevInputs!.crosswalk))})`
              : '(SELECT * FROM cw WHERE false)';
            await engine.run(`CREATE OR REPLACE TEMP TABLE ref_keys AS SELECT DISTINCT CUSTOMER_ID AS v FROM (
              (SELECT * FROM cw EXCEPT SELECT * FROM ${before}) UNION ALL (SELECT * FROM ${before} EXCEPT SELECT * FROM cw))`);
            const changedIds = Number(await engine.scalar('SELECT count(*) FROM ref_keys'));
            if (contract.name === 'CUSTOMERS') add('crosswalk', changedIds > 0 ? [''] : []);
            else {
              const ps = await partitionsWith(engine, ctx.lake, contract, staged, [['CUSTOMER_ID', 'v']], 'ref_keys');
              if (contract.columns.some((x) => x.name === 'ANONYMOUS_ID')) ps.push(...(await partitionsWith(engine, ctx.lake, contract, staged, [['ANONYMOUS_ID', 'v']], 'ref_keys')));
              add('crosswalk', ps);
              if (rowLevel) {
                await keysWith(engine, ctx.lake, contract, staged, [['CUSTOMER_ID', 'v']], 'ref_keys');
                if (contract.columns.some((x) => x.name === 'ANONYMOUS_ID')) await keysWith(engine, ctx.lake, contract, staged, [['ANONYMOUS_ID', 'v']], 'ref_keys');
              }
            }
          }
          touched = [...set].sort();
          if (wholeTable) touched = [...new Set([...stagedParts, ...Object.keys(previous!.partitions)])].sort();
          if (wholeTable) await engine.run(`INSERT INTO repub_keys SELECT ${keyCols} FROM ${await keyIndexSql(ctx.lake, contract, staged, partition)}`);
        }
      }
      ctx.report.metrics[`${contract.name}.publish`] = { mode: full ? 'full' : 'incremental', partitions: touched.length, reasons: reason };
      const inputs: PublishInputs = {
        staged: Object.fromEntries([[contract.name, staged.seq], ...[...needStates].map(([n, s]) => [n, s.seq])]),
      };
      // The crosswalk copy the next run diffs against: written before the state that names it.
      const cwCopy = joinLake(changesDir(ds.path), `crosswalk-${String((previous?.seq ?? 0) + 1).padStart(6, '0')}.parquet`);
      const nothingChanged = async () => {
        ctx.log.info(`${contract.name}: nothing to re-publish`);
        // The crosswalk copy stays the one the published rows were stamped from (rewriting it under the name the
        // state holds would be unsafe); the next run looks at the same changed customers again and finds them current.
        inputs.crosswalk = prevInputs?.crosswalk;
        // (a table with no data yet has no previous state: it gets an empty one, so readers see no partitions, not none at all)
        await ctx.lake.write(joinLake(ds.path, '_state.json'), JSON.stringify({ ...(previous ?? emptyDatasetState()), inputs }));
      };
      if (touched.length === 0) return nothingChanged();
      const stgFiles = touched.flatMap((p) => staged.partitions[p] ?? []);
      const stgRows = await readDatasetSql(ctx.lake, stgFiles, emptySql(getDataset(stagedName(contract))));
      if (rowLevel) {
        ctx.report.metrics[`${contract.name}.publish`] = { mode: 'incremental', partitions: touched.length, reasons: reason, rows: Number(await engine.scalar('SELECT count(*) FROM (SELECT DISTINCT * FROM repub_keys)')) };
        await engine.run(`CREATE TEMP TABLE stg_self AS SELECT * FROM ${stgRows} t SEMI JOIN (SELECT DISTINCT * FROM repub_keys) k ON ${keyMatch(contract, 't', 'k')}`);
      } else await engine.run(`CREATE VIEW stg_self AS SELECT * FROM ${stgRows}`);
      ctx.report.inputs.push(...stgFiles);
      const available = new Set<string>([contract.name]);
      // The rows the checks compare with: only the partitions (found in each table's key index) holding a key the
      // re-published rows reach, so a daily run reads (on ADLS: downloads) those, not the other table's history.
      const refs = CHECKS[contract.name]?.refs ?? {};
      const reached = async (t: TableContract, s: DatasetState, on: readonly (readonly [string, string])[]): Promise<string[]> =>
        (await partitionsWith(engine, ctx.lake, t, s, on, 'stg_self')).flatMap((p) => s.partitions[p] ?? []);
      for (const n of needs) {
        const s = needStates.get(n.name);
        if (!s || Object.values(s.partitions).flat().length === 0) continue;
        const files = await reached(n, s, [[n.primaryKey[0]!, refs[n.name]!]]);
        await engine.run(`CREATE OR REPLACE VIEW ${stagedView(n)} AS SELECT * FROM ${await readDatasetSql(ctx.lake, files, emptySql(getDataset(stagedName(n))))}`);
        available.add(n.name);
        ctx.report.inputs.push(...files);
      }
      // Checks of a table against itself (funnel order) read the staged rows with the same values (customer, campaign).
      const selfCols = CHECKS[contract.name]?.self;
      if (selfCols) {
        const files = await reached(contract, staged, selfCols.map((x) => [x, x] as const));
        await engine.run(`CREATE OR REPLACE VIEW ${stagedView(contract)} AS SELECT * FROM ${await readDatasetSql(ctx.lake, files, 'SELECT * FROM stg_self WHERE false')}`);
      }
      const { sql, checks, skipped } = publishSql(contract, available, tenant);
      const shaped = await conformSql(engine, ds, sql);
      await engine.run(`CREATE TEMP TABLE published AS SELECT *, ${partition} AS __p FROM (${shaped})`);
      if (rowLevel) {
        // The rows not re-published, as published before; then the table in the order a whole publish writes.
        const kept = await readDatasetSql(ctx.lake, touched.flatMap((p) => previous!.partitions[p] ?? []), 'SELECT * EXCLUDE (__p) FROM published WHERE false');
        await engine.run(`INSERT INTO published BY NAME SELECT o.*, ${partition} AS __p FROM ${kept} o ANTI JOIN stg_self k ON ${keyMatch(contract, 'o', 'k')}`);
        await engine.run(`CREATE OR REPLACE TEMP TABLE published AS SELECT * FROM published ORDER BY ${contract.primaryKey.map(ident).join(', ')}`);
      }
      if (!full && partitionColumn(contract)) {
        // Only partitions whose published rows differ from those there now are rewritten: a re-checked row whose
        // flags stayed, or a customer whose crosswalk entry changed but names the same person, leaves its day alone,
        // so Gold (which recomputes the days this dataset's change log names) does not recompute it either. (An
        // unpartitioned table is one file that changes on nearly every run: comparing it whole would cost more.)
        const cols = [...ds.columns.map((c) => ident(c.name)), '__p'].join(', ');
        const before = await readDatasetSql(ctx.lake, touched.flatMap((p) => previous!.partitions[p] ?? []), 'SELECT * EXCLUDE (__p) FROM published WHERE false');
        // (by name: a file written before a column was declared compares as changed, not as an error)
        await engine.run(`CREATE TEMP TABLE before_pub AS SELECT ${cols} FROM (SELECT * FROM published WHERE false UNION ALL BY NAME SELECT *, ${partition} AS __p FROM ${before})`);
        const differ = new Set((await engine.all<{ p: string }>(`SELECT DISTINCT __p AS p FROM (
          (SELECT ${cols} FROM published EXCEPT ALL SELECT ${cols} FROM before_pub)
          UNION ALL (SELECT ${cols} FROM before_pub EXCEPT ALL SELECT ${cols} FROM published))`)).map((r) => r.p));
        reason.unchanged = touched.filter((p) => !differ.has(p)).length;
        touched = touched.filter((p) => differ.has(p));
        ctx.report.metrics[`${contract.name}.publish`] = { mode: 'incremental', partitions: touched.length, reasons: reason };
        if (touched.length === 0) return nothingChanged();
        await engine.run(`DELETE FROM published WHERE __p NOT IN (${touched.map(lit).join(', ')})`);
      }
      if (hasCw) {
        await commitQuery(engine, ctx.lake, 'SELECT * FROM cw', cwCopy, { tmpDir: join(ctx.home, 'tmp', 'silver') });
        inputs.crosswalk = cwCopy;
      }
      const base = full ? { ...emptyDatasetState(), seq: previous?.seq ?? 0, partitions: { ...previous?.partitions } } : previous!;
      if (full && isPartitioned(contract)) delete base.partitions[''];
      const { rows, written } = await commitPartitions(engine, ctx.lake, ds.path, base, {
        relation: 'published',
        touched,
        inputs: inputs as unknown as Record<string, unknown>,
        tmpDir: join(ctx.home, 'tmp', 'silver'),
        fault: `silver-publish:${contract.name}`,
      });
      if (prevInputs?.crosswalk && prevInputs.crosswalk !== inputs.crosswalk) await ctx.lake.delete(prevInputs.crosswalk);
      ctx.report.outputs.push(...written);
      const [m] = await engine.all<Record<string, unknown>>(qualityMetricsSql('published'));
      const flags = await engine.all<{ code: string; n: string }>(flagCountsSql('published'));
      ctx.report.rowCounts[`${contract.name}.silver`] = rows;
      ctx.report.metrics[`${contract.name}.quality`] = {
        rows,
        flaggedRows: Number(m?.flagged_rows ?? 0),
        avgQualityScore: m?.avg_quality_score == null ? null : Number(m.avg_quality_score),
        minQualityScore: m?.min_quality_score == null ? null : Number(m.min_quality_score),
        flags: Object.fromEntries(flags.map((f) => [f.code, Number(f.n)])),
        checks: checks.map((c) => c.code),
        skippedChecks: skipped.map((c) => c.code),
      };
    } finally {
      engine.close();
    }
  },
};

export const SILVER_TABLES = ALL_CONTRACTS.map((c) => c.name);
