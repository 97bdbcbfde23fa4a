// Model training on its own schedule (src/intelligence/trained-models.ts): a training run stores its models, the
// runs in between score with them (same model versions, a snapshot of the new as-of date), and a run trains again
// when the models are due, when asked, or when its as-of date is before their training date (a backfill).
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { upstreamJobs } from '../src/catalogue/index.ts';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { featuresJob } from '../jobs/gold-intelligence-features.ts';
import { scoresJob } from '../jobs/gold-intelligence-scores.ts';
import { segmentsJob } from '../jobs/gold-intelligence-segments.ts';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { goldDir } from '../src/gold/paths.ts';
import { trainDecision } from '../src/intelligence/trained-models.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { parquetFiles } from '../src/lake/parquet.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import type { JobContext } from '../src/runtime/job.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { writeSilverFixture, type FixtureRow } from './fixtures/silver-fixture.ts';

let home: string;
let lake: LocalLake;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-train-'));
  lake = new LocalLake(join(home, 'lake'));
  // CDNOW purchases (real retail data, test/fixtures/clv) of the first 600 sample customers as Silver transactions.
  const rows: FixtureRow[] = [];
  for (const [i, line] of (await readFile(join(import.meta.dirname, 'fixtures', 'clv', 'CDNOW_sample.txt'), 'utf8')).split('\n').entries()) {
    const f = line.trim().split(/\s+/);
    if (f.length !== 5 || Number(f[1]) > 600) continue;
    const d = f[2]!;
    rows.push({
      TRANSACTION_ID: `T${i}`, CUSTOMER_ID: `C${f[1]}`, CUSTOMER360_ID: `C${f[1]}`, TRANSACTION_DATE: `${d.slice(0, 4)}-${d.slice(4, 6)}-${d.slice(6, 8)} 12:00:00`,
      TOTAL_AMOUNT: Number(f[4]), TRANSACTION_TYPE: 'PURCHASE', TRANSACTION_STATUS: 'COMPLETED',
    });
  }
  const e = await Engine.open();
  try {
    await writeSilverFixture(e, lake, join(home, 'tmp'), 'CUSTOMER_TRANSACTIONS', rows);
  } finally {
    e.close();
  }
});
afterAll(async () => {
  await rm(home, { recursive: true, force: true });
});

async function scores(asOf: string, params: Record<string, string> = {}): Promise<{ ctx: JobContext; versions: string[]; rows: number }> {
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: asOf, asOf, params: { horizonDays: '90', ...params } });
  await scoresJob.run(ctx);
  const e = await Engine.open();
  try {
    const files = await Promise.all((await parquetFiles(lake, goldDir('risk_scores', asOf))).map((f) => lake.localPath(f)));
    const r = await e.all<{ v: string; n: unknown }>(`SELECT CHURN_MODEL_VERSION || ' ' || CLV_MODEL_VERSION AS v, count(*) AS n FROM read_parquet(${litList(files)}) GROUP BY 1`);
    return { ctx, versions: r.map((x) => x.v), rows: r.reduce((a, x) => a + Number(x.n), 0) };
  } finally {
    e.close();
  }
}

async function riskRows(asOf: string): Promise<string[]> {
  const e = await Engine.open();
  try {
    const files = await Promise.all((await parquetFiles(lake, goldDir('risk_scores', asOf))).map((f) => lake.localPath(f)));
    return (await e.all(`SELECT * FROM read_parquet(${litList(files)}) ORDER BY CUSTOMER360_ID`)).map((r) => JSON.stringify(r));
  } finally {
    e.close();
  }
}

describe('model training on its own schedule', () => {
  it('trains, scores the next days with the stored models, and trains again when due, asked or backfilling', async () => {
    const first = await scores('1997-12-01');
    expect(first.ctx.report.metrics.training).toMatchObject({ train: true, reason: 'no stored models' });
    expect(first.versions).toHaveLength(1);

    // Three days later: the stored models score a snapshot of the new date (more customers have bought by then).
    const next = await scores('1997-12-04');
    expect(next.ctx.report.metrics.training).toMatchObject({ train: false });
    expect(next.versions).toEqual(first.versions);
    expect(next.ctx.report.metrics.churn).toBeUndefined();
    expect(next.rows).toBeGreaterThanOrEqual(first.rows);

    // With the features job's snapshot of the date, scoring reads it and the purchase days of its aggregate only, and scores the same.
    await featuresJob.run(makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: '1997-12-04', asOf: '1997-12-04', params: {} }));
    const before = await riskRows('1997-12-04');
    const light = await scores('1997-12-04');
    expect(light.ctx.report.metrics.training).toMatchObject({ train: false });
    expect(light.ctx.report.inputs.length).toBeGreaterThan(1);
    expect(light.ctx.report.inputs.every((f) => /feature_snapshots|model_customer_daily/.test(f))).toBe(true);
    expect(await riskRows('1997-12-04')).toEqual(before);

    // Due (trainEveryDays=3), asked (train=true), or before the training date: a new fit.
    const due = await scores('1997-12-04', { trainEveryDays: '3' });
    expect(due.ctx.report.metrics.training).toMatchObject({ train: true });
    expect(due.versions).not.toEqual(first.versions);
    const back = await scores('1997-11-20');
    expect(back.ctx.report.metrics.training).toMatchObject({ train: true, reason: expect.stringMatching(/before the stored models' training date 1997-12-04/) });
  }, 240_000);

  it('segments read the features job\'s snapshot of the as-of date, and give what a load of Silver gives', async () => {
    expect(upstreamJobs('gold-intelligence-segments')).toContain('gold-intelligence-features');
    const asOf = '1997-12-10';
    const run = async (job: typeof featuresJob) => {
      const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r', loadId: 'l', runDate: asOf, asOf, params: {} });
      await job.run(ctx);
      return ctx;
    };
    const rows = async () => {
      const e = await Engine.open();
      try {
        const files = await Promise.all((await parquetFiles(lake, goldDir('customer_segments', asOf))).map((f) => lake.localPath(f)));
        return (await e.all(`SELECT * FROM read_parquet(${litList(files)}) ORDER BY CUSTOMER360_ID`)).map((r) => JSON.stringify(r));
      } finally {
        e.close();
      }
    };
    const loaded = await run(segmentsJob);
    expect(loaded.report.inputs.some((f) => f.includes('feature_snapshots'))).toBe(false);
    const fromSilver = await rows();
    await run(featuresJob);
    const stored = await run(segmentsJob);
    expect(stored.report.inputs.every((f) => f.includes('feature_snapshots'))).toBe(true);
    expect(fromSilver.length).toBeGreaterThan(100);
    expect(await rows()).toEqual(fromSilver);
  }, 120_000);

  it('decides by horizon and parameters', () => {
    const stored = { trainedAsOf: '2026-01-10', horizonDays: 90, models: {}, records: [] };
    expect(trainDecision({}, stored, '2026-01-16', 90).train).toBe(false);
    expect(trainDecision({}, stored, '2026-01-17', 90).train).toBe(true);
    expect(trainDecision({}, stored, '2026-01-12', 30).reason).toMatch(/90-day horizon/);
    expect(trainDecision({ fullRefresh: 'true' }, stored, '2026-01-12', 90).reason).toBe('full refresh');
    expect(() => trainDecision({ trainEveryDays: '0' }, stored, '2026-01-12', 90)).toThrow(/trainEveryDays/);
  });
});
