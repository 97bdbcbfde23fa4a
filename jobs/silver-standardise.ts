// Silver step 1 (per table): the Bronze files not consumed yet -> deduplicated, cleansed and flagged rows merged by
// key into Silver staging (partitioned by event date where the table has one). `fullRefresh=true` rebuilds from
// every Bronze file.
import { getContract } from '../schemas/index.ts';
import type { Job } from '../src/runtime/job.ts';
import { addressTable, installMacros, phoneTable } from '../src/identity/standardise.ts';
import { appendRows } from '../src/identity/append.ts';
import { NICKNAMES } from '../src/identity/nicknames.ts';
import { registerBronze } from '../src/silver/bronze-source.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { conformSql } from '../src/catalogue/runner.ts';
import { changesDir, commitPartitions, emptyDatasetState, readDatasetState } from '../src/catalogue/partitioned.ts';
import { commitQuery } from '../src/lake/parquet.ts';
import { joinLake } from '../src/lake/lake.ts';
import { isPartitioned, rowPartitionSql, stagedName } from '../src/silver/datasets.ts';
import { duplicateCountSql, stagingSql } from '../src/silver/standardise-table.ts';
import { mergeByKey, nextKeyIndexSql, truthy, unseenBronze } from '../src/silver/incremental.ts';
import { join } from 'node:path';

export const silverStandardiseJob: Job = {
  name: 'silver-standardise',
  description: 'Standardise one table into Silver staging: the Bronze files not seen yet, deduplicated and merged by key (latest ingest wins), cleansed by contract, flagged',
  params: [
    { name: 'table', description: 'Contract table name, e.g. CUSTOMERS', required: true, type: { kind: 'table' } },
    { name: 'fullRefresh', description: "'true': rebuild from every Bronze file instead of merging the new ones", type: { kind: 'bool' } },
  ],
  async run(ctx) {
    const contract = getContract(ctx.params.table ?? '');
    const ds = getDataset(stagedName(contract));
    const full = truthy(ctx.params.fullRefresh);
    const previous = await readDatasetState(ctx.lake, ds.path);
    // No state yet (a first run, or a lake written before incremental Silver), or a table now partitioned staged as
    // one file (line items before they were partitioned by load): rebuild.
    const state = full || (isPartitioned(contract) && previous?.partitions[''] !== undefined) ? undefined : previous;
    const { visible, unseen } = await unseenBronze(ctx.lake, contract, state);
    ctx.report.metrics[`${contract.name}.mode`] = state ? 'incremental' : 'full';
    if (state && unseen.length === 0) {
      ctx.report.rowCounts[`${contract.name}.bronze`] = 0;
      ctx.log.info(`${contract.name}: no new Bronze files, staging unchanged`);
      return;
    }
    ctx.report.inputs.push(...unseen);
    const engine = await ctx.openEngine();
    try {
      const localPaths = await Promise.all(unseen.map((p) => ctx.lake.localPath(p)));
      const present = await registerBronze(engine, contract, localPaths);
      if (contract.name === 'CUSTOMERS') {
        await installMacros(engine);
        const phone = present.has('PHONE_NUMBER') ? "nullif(trim(CAST(PHONE_NUMBER AS VARCHAR)), '')" : 'NULL::VARCHAR';
        const country = present.has('COUNTRY_CODE') ? "upper(nullif(trim(CAST(COUNTRY_CODE AS VARCHAR)), ''))" : 'NULL::VARCHAR';
        await phoneTable(engine, `SELECT DISTINCT ${phone} AS raw, ${country} AS country FROM bronze_src WHERE ${phone} IS NOT NULL`);
        const address = present.has('ADDRESS_LINE_1') ? "nullif(trim(CAST(ADDRESS_LINE_1 AS VARCHAR)), '')" : 'NULL::VARCHAR';
        await addressTable(engine, `SELECT DISTINCT ${address} AS raw FROM bronze_src WHERE ${address} IS NOT NULL`);
        await engine.run('CREATE OR REPLACE TABLE id_nick (name VARCHAR, canonical VARCHAR)');
        await appendRows(engine, 'id_nick', [...NICKNAMES]);
      }
      const bronzeRows = Number(await engine.scalar('SELECT count(*) FROM bronze_src'));
      const duplicates = Number(await engine.scalar(duplicateCountSql(contract)));
      const partition = rowPartitionSql(contract);
      const shaped = await conformSql(engine, ds, stagingSql(contract, { present, loadId: ctx.loadId }));
      await engine.run(`CREATE OR REPLACE TEMP TABLE fresh AS SELECT *, ${partition} AS __p FROM (${shaped})`);
      let touched: string[];
      let base = state;
      if (state) {
        touched = await mergeByKey(engine, ctx.lake, contract, state, partition);
      } else {
        // A rebuild replaces every partition there was.
        await engine.run('CREATE OR REPLACE TEMP TABLE merged AS SELECT * FROM fresh');
        await engine.run('CREATE OR REPLACE TEMP TABLE changed AS SELECT * EXCLUDE (__p) FROM fresh');
        const fresh = (await engine.all<{ p: string }>('SELECT DISTINCT __p AS p FROM fresh')).map((r) => r.p);
        touched = [...new Set([...fresh, ...Object.keys(previous?.partitions ?? {}), ...(isPartitioned(contract) ? [] : [''])])].sort();
        const partitions = { ...previous?.partitions };
        // (a file written before the table was partitioned: dropped, its rows are in the partitions now)
        if (isPartitioned(contract)) {
          delete partitions[''];
          touched = touched.filter((p) => p !== '');
        }
        base = { ...emptyDatasetState(), seq: previous?.seq ?? 0, partitions, changes: [] };
      }
      // The key index (keys and look-up columns per partition) the next merge and publishing read instead of every
      // partition; written before the state that names it.
      const keyIndex = joinLake(changesDir(ds.path), `keys-${String(base!.seq + 1).padStart(6, '0')}.parquet`);
      await commitQuery(engine, ctx.lake, await nextKeyIndexSql(ctx.lake, contract, state, partition, touched), keyIndex, { tmpDir: join(ctx.home, 'tmp', 'silver'), compression: 'zstd' });
      const { rows, written, state: next } = await commitPartitions(engine, ctx.lake, ds.path, base!, {
        relation: 'merged',
        touched,
        changes: 'changed',
        inputs: { bronze: visible, full: !state, keyIndex },
        tmpDir: join(ctx.home, 'tmp', 'silver'),
        fault: `silver-standardise:${contract.name}`,
      });
      ctx.report.outputs.push(...written);
      const oldIndex = previous?.inputs.keyIndex as string | undefined;
      if (oldIndex && oldIndex !== keyIndex) await ctx.lake.delete(oldIndex);
      const flags = await engine.all<{ code: string; n: string }>(
        `SELECT code, count(*) AS n FROM (SELECT unnest(_dq_flags) AS code FROM fresh) GROUP BY code ORDER BY code`,
      );
      const stagedRows = Number(await engine.scalar('SELECT count(*) FROM fresh'));
      ctx.report.rowCounts[`${contract.name}.bronze`] = bronzeRows;
      ctx.report.rowCounts[`${contract.name}.staged`] = stagedRows;
      ctx.report.metrics[`${contract.name}.standardise`] = {
        bronzeRows,
        bronzeFiles: unseen.length,
        duplicateKeyRows: duplicates,
        stagedRows,
        partitionsRewritten: touched.length,
        rowsInRewrittenPartitions: rows,
        seq: next.seq,
        flags: Object.fromEntries(flags.map((f) => [f.code, Number(f.n)])),
      };
      ctx.log.info(`${contract.name} staged`, { bronzeFiles: unseen.length, bronzeRows, stagedRows, duplicates, partitions: touched.length });
    } finally {
      engine.close();
    }
  },
};
