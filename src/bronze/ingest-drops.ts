// Ingesting a set of drops inside a job: one engine, results folded into the job report for the run manifest.
import { join } from 'node:path';
import type { TableContract } from '../../schemas/contract.ts';
import type { JobContext } from '../runtime/job.ts';
import type { Drop } from './drops.ts';
import { ingestRelation, type IngestResult } from './ingest.ts';

export interface TableTotals {
  input: number;
  distinct: number;
  alreadyIngested: number;
  duplicatesDropped: number;
  bronze: number;
  quarantine: number;
}

/** Ingests the drops in order and records per-table counts (rowCounts) and reasons (metrics) in ctx.report. */
export async function ingestDrops(ctx: JobContext, contract: TableContract, drops: readonly Drop[], options: { sourceSystem?: string } = {}): Promise<IngestResult[]> {
  const results: IngestResult[] = [];
  const engine = await ctx.openEngine();
  try {
    for (const drop of drops) {
      const file = drop.inLake ? await ctx.lake.localPath(drop.location) : drop.location;
      const sourceFile = drop.inLake ? `${ctx.lake.location.replace(/\/$/, '')}/${drop.location}` : drop.location;
      ctx.log.progress(`ingesting ${contract.name}`, { file: sourceFile });
      const r = await ingestRelation(engine, ctx.lake, {
        table: contract.name,
        source: { file, format: drop.format },
        loadId: ctx.loadId,
        ingestDate: ctx.runDate,
        sourceFile,
        sourceSystem: options.sourceSystem,
        tmpDir: join(ctx.home, 'tmp', 'bronze'),
      });
      results.push(r);
      ctx.report.inputs.push(sourceFile);
      ctx.report.outputs.push(...r.outputs);
      ctx.log.info(`${contract.name} ingested`, { file: sourceFile, input: r.inputRows, bronze: r.bronzeRows, quarantine: r.quarantineRows, duplicatesDropped: r.duplicatesDropped });
    }
  } finally {
    engine.close();
    // Also when a later drop fails: the drops committed before it are in the manifest with their counts.
    recordResults(ctx, contract, results);
  }
  return results;
}

export function totalsOf(results: readonly IngestResult[]): TableTotals {
  const t: TableTotals = { input: 0, distinct: 0, alreadyIngested: 0, duplicatesDropped: 0, bronze: 0, quarantine: 0 };
  for (const r of results) {
    t.input += r.inputRows;
    t.distinct += r.distinctRows;
    t.alreadyIngested += r.alreadyIngested;
    t.duplicatesDropped += r.duplicatesDropped;
    t.bronze += r.bronzeRows;
    t.quarantine += r.quarantineRows;
  }
  return t;
}

/**
 * rowCounts `<TABLE>.input|distinct|alreadyIngested|duplicatesDropped|bronze|quarantine` and metrics
 * `<TABLE>.reasons` / `<TABLE>.reasonCodes` / `<TABLE>.files`. Conservation: distinct = bronze + quarantine +
 * alreadyIngested (alreadyIngested is 0 on a first load).
 */
export function recordResults(ctx: Pick<JobContext, 'report'>, contract: TableContract, results: readonly IngestResult[]): void {
  const t = totalsOf(results);
  for (const [k, v] of Object.entries(t)) ctx.report.rowCounts[`${contract.name}.${k}`] = v;
  const reasons: Record<string, number> = {};
  const codes: Record<string, number> = {};
  for (const r of results) {
    for (const [k, v] of Object.entries(r.reasons)) reasons[k] = (reasons[k] ?? 0) + v;
    for (const [k, v] of Object.entries(r.reasonCodes)) codes[k] = (codes[k] ?? 0) + v;
  }
  ctx.report.metrics[`${contract.name}.reasons`] = reasons;
  ctx.report.metrics[`${contract.name}.reasonCodes`] = codes;
  ctx.report.metrics[`${contract.name}.files`] = results.map((r) => ({
    sourceFile: r.sourceFile, input: r.inputRows, distinct: r.distinctRows, alreadyIngested: r.alreadyIngested,
    duplicatesDropped: r.duplicatesDropped, bronze: r.bronzeRows, quarantine: r.quarantineRows,
    extraColumns: r.extraColumns, missingColumns: r.missingColumns, outputName: r.outputName, shape: r.shape,
  }));
  ctx.report.metrics[`${contract.name}.conserved`] = t.distinct === t.bronze + t.quarantine + t.alreadyIngested;
}
