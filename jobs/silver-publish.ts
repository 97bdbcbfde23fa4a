// Silver step 3 (per table): staged rows + CUSTOMER360_ID + cross-table checks + quality score -> the Silver dataset.
import { ALL_CONTRACTS, getContract } from '../schemas/index.ts';
import type { Job } from '../src/runtime/job.ts';
import { lit } from '../src/engine/duckdb.ts';
import { CHECKS, stagedView } from '../src/silver/checks.ts';
import { IDENTITY_PATHS, stagingFile } from '../src/silver/paths.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { writeDataset } from '../src/catalogue/runner.ts';
import { silverName } from '../src/silver/datasets.ts';
import { flagCountsSql, publishSql, qualityMetricsSql } from '../src/silver/publish.ts';
import { UsageError } from '../src/runtime/errors.ts';

export const silverPublishJob: Job = {
  name: 'silver-publish',
  description: 'Publish one Silver table: stamp CUSTOMER360_ID from the crosswalk, run cross-table checks, score each record',
  params: [
    { name: 'table', description: 'Contract table name', required: true, type: { kind: 'table' } },
    { name: 'tenant', description: "Tenant id (default 'default')" },
  ],
  async run(ctx) {
    const contract = getContract(ctx.params.table ?? '');
    const tenant = ctx.params.tenant || 'default';
    const staged = stagingFile(contract);
    if (!(await ctx.lake.exists(staged))) throw new UsageError(`${staged} is missing: run silver-standardise for ${contract.name} first`);
    const engine = await ctx.openEngine();
    try {
      await engine.run(`CREATE VIEW stg_self AS SELECT * FROM read_parquet(${lit(await ctx.lake.localPath(staged))})`);
      ctx.report.inputs.push(staged);
      const available = new Set<string>();
      for (const name of [contract.name, ...(CHECKS[contract.name]?.needs ?? [])]) {
        const c = getContract(name);
        const file = stagingFile(c);
        if (await ctx.lake.exists(file)) {
          await engine.run(`CREATE OR REPLACE VIEW ${stagedView(c)} AS SELECT * FROM read_parquet(${lit(await ctx.lake.localPath(file))})`);
          available.add(c.name);
          if (c.name !== contract.name) ctx.report.inputs.push(file);
        }
      }
      if (await ctx.lake.exists(IDENTITY_PATHS.crosswalk)) {
        await engine.run(`CREATE VIEW cw AS SELECT * FROM read_parquet(${lit(await ctx.lake.localPath(IDENTITY_PATHS.crosswalk))})`);
        ctx.report.inputs.push(IDENTITY_PATHS.crosswalk);
      } else {
        await engine.run('CREATE TABLE cw (TENANT_ID VARCHAR, SOURCE_SYSTEM VARCHAR, CUSTOMER_ID VARCHAR, CUSTOMER360_ID VARCHAR)');
        ctx.log.warn('no identity crosswalk yet: CUSTOMER360_ID stays null', { table: contract.name });
      }
      const { sql, checks, skipped } = publishSql(contract, available, tenant);
      const { path: out, rows } = await writeDataset(ctx, engine, getDataset(silverName(contract)), sql);
      const written = `read_parquet(${lit(await ctx.lake.localPath(out))})`;
      const [m] = await engine.all<Record<string, unknown>>(qualityMetricsSql(written));
      const flags = await engine.all<{ code: string; n: string }>(flagCountsSql(written));
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
