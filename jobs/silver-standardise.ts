// Silver step 1 (per table): Bronze -> deduplicated, as-of cut, cleansed and flagged rows in Silver staging.
import { getContract } from '../schemas/index.ts';
import type { Job } from '../src/runtime/job.ts';
import { addressTable, installMacros, phoneTable } from '../src/identity/standardise.ts';
import { appendRows } from '../src/identity/append.ts';
import { NICKNAMES } from '../src/identity/nicknames.ts';
import { registerBronze } from '../src/silver/bronze-source.ts';
import { bronzeDataFiles } from '../src/bronze/table-state.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { writeDataset } from '../src/catalogue/runner.ts';
import { stagedName } from '../src/silver/datasets.ts';
import { duplicateCountSql, stagingSql } from '../src/silver/standardise-table.ts';
import { lit } from '../src/engine/duckdb.ts';

export const silverStandardiseJob: Job = {
  name: 'silver-standardise',
  description: 'Standardise one table into Silver staging: dedupe by key (latest ingest wins), cleanse by contract, flag quality issues',
  params: [{ name: 'table', description: 'Contract table name, e.g. CUSTOMERS', required: true, type: { kind: 'table' } }],
  async run(ctx) {
    const contract = getContract(ctx.params.table ?? '');
    const lakePaths = await bronzeDataFiles(ctx.lake, contract);
    const localPaths = await Promise.all(lakePaths.map((p) => ctx.lake.localPath(p)));
    ctx.report.inputs.push(...lakePaths);
    const engine = await ctx.openEngine();
    try {
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
      const { path: out, rows } = await writeDataset(ctx, engine, getDataset(stagedName(contract)), stagingSql(contract, { present, loadId: ctx.loadId }));
      const flags = await engine.all<{ code: string; n: string }>(
        `SELECT code, count(*) AS n FROM (SELECT unnest(_dq_flags) AS code FROM read_parquet(${lit(await ctx.lake.localPath(out))})) GROUP BY code ORDER BY code`,
      );
      ctx.report.rowCounts[`${contract.name}.bronze`] = bronzeRows;
      ctx.report.rowCounts[`${contract.name}.staged`] = rows;
      ctx.report.metrics[`${contract.name}.standardise`] = {
        bronzeRows,
        duplicateKeyRows: duplicates,
        stagedRows: rows,
        flags: Object.fromEntries(flags.map((f) => [f.code, Number(f.n)])),
      };
      ctx.log.info(`${contract.name} staged`, { bronzeRows, rows, duplicates });
    } finally {
      engine.close();
    }
  },
};
