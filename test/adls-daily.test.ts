// A daily run against ADLS (Azurite) on fresh job compute (an empty download cache) downloads the increment, the
// indexes and the partitions it touches, not the lake's history; so do Gold's daily aggregates (the changed days'
// Silver partitions): bytes are measured, not timed.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER } from '../pipelines/master.ts';
import { openLake } from '../src/lake/index.ts';
import type { AdlsLake } from '../src/lake/adls-lake.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { startAzurite, type Azurite } from './fixtures/azurite.ts';
import { makeDailyDrops } from './fixtures/daily-lake.ts';

let azurite: Azurite;
let port: number;

beforeAll(async () => {
  azurite = await startAzurite();
  port = azurite.port;
});

afterAll(() => azurite?.stop());

const BRONZE_SILVER = { ...MASTER, stages: MASTER.stages.filter((s) => s.name === 'bronze_ingestion' || s.name === 'silver_processing') };
/** Gold's daily aggregates alone (gold_daily of the Gold stage), run on their own fresh compute to count their bytes. */
const GOLD_DAILY = {
  ...MASTER,
  stages: MASTER.stages.filter((s) => s.name === 'gold_aggregation').map((s) => ({ ...s, activities: s.activities.filter((a) => a.name === 'gold_daily') })),
};

describe('daily runs on ADLS', () => {
  it('download the day, the indexes and the touched partitions, not the history', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'c360-adls-daily-'));
    const drops = await makeDailyDrops(dir, { dailyDrops: 2 });
    const spec = `http://127.0.0.1:${port}/devstoreaccount1/lake`;
    const run = async (input: string, label: string) => {
      // Fresh job compute each time: an empty HOME, so nothing is cached.
      const home = join(dir, label);
      const lake = (await openLake(home, spec)) as AdlsLake;
      const m = await runPipeline({ home, lake, log: silentLogger, pipeline: BRONZE_SILVER, params: { input } });
      expect(m.status, JSON.stringify(m.jobs.find((j) => j.status === 'failed')?.error)).toBe('succeeded');
      const size = (await lake.list('bronze')).concat(await lake.list('silver')).reduce((n, f) => n + f.size, 0);
      return { downloaded: lake.downloadedBytes, lakeBytes: size, ...(await gold(label, false)) };
    };
    const gold = async (label: string, full: boolean) => {
      const home = join(dir, `${label}-gold`);
      const lake = (await openLake(home, spec)) as AdlsLake;
      const g = await runPipeline({ home, lake, log: silentLogger, pipeline: GOLD_DAILY, params: { fullRefresh: String(full) } });
      expect(g.status, JSON.stringify(g.jobs.find((j) => j.status === 'failed')?.error)).toBe('succeeded');
      return { gold: lake.downloadedBytes, days: (g.jobs[0]!.metrics['customer_daily.maintain'] as { days: number }).days };
    };
    await run(drops.history, 'history');
    const day1 = await run(drops.days[0]!.dir, 'day1');
    const day2 = await run(drops.days[1]!.dir, 'day2');
    console.log(`ADLS bytes downloaded: day 1 ${day1.downloaded} of ${day1.lakeBytes} in the lake; day 2 ${day2.downloaded} of ${day2.lakeBytes}`);
    console.log(`Gold daily aggregates downloaded: day 1 ${day1.gold} bytes (${day1.days} days), day 2 ${day2.gold} (${day2.days} days)`);
    // Identity downloads its graph (gzipped) and staging's change files; the crosswalk copies grow with customers;
    // everything else downloads the increment. Without incremental reads a run downloads at least the whole Bronze and Silver.
    for (const d of [day1, day2]) expect(d.downloaded).toBeLessThan(d.lakeBytes * 0.5);
    // Gold's daily aggregates download only the changed days' Silver partitions (in this 12-day sample the drop's late
    // and corrected records and the crosswalk changes of identity re-resolution touch 5-7 days), not every day's.
    const rebuild = await gold('rebuild', true);
    console.log(`Gold daily aggregates rebuilt: ${rebuild.gold} bytes (${rebuild.days} days)`);
    for (const d of [day1, day2]) {
      expect(d.days).toBeLessThan(rebuild.days);
      expect(d.gold).toBeLessThan(rebuild.gold);
    }
  }, 300_000);
});
