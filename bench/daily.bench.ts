// Daily runs against full refreshes (docs/incremental.md). One 120-day sample at 20k people (scale 1), split into
// daily drops: a lake with 119 days of history takes the 120th day's drop (`c360 run --input DAY`), and a lake with
// only 29 days of history takes the same day's drop; then the 120-day lake is rebuilt (`--full-refresh`). Targets:
// day-120 run <= 10% of the full refresh, day-120 run within 1.3x of the day-30 run. Each run is the whole master
// pipeline in process; CPU seconds (steadier than wall time on a shared machine) and wall time are reported per run
// and per stage, with the slowest activities and the days Gold's daily aggregates recomputed, so what is incremental
// and what is not yet shows.
import { join } from 'node:path';
import type { Bench } from '../src/cli/commands/bench.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import type { RunManifest } from '../src/runtime/manifest.ts';
import { generateSample } from '../src/sample/generate.ts';
import { splitDailyDrops } from '../src/sample/daily-drops.ts';
import { cpuSeconds, maxRssMb } from './measure.ts';

interface Measured {
  wallS: number;
  cpuS: number;
  /** Wall seconds per pipeline stage. */
  stages: Record<string, number>;
  /** Wall seconds of the slowest activities. */
  slowest: Record<string, number>;
  /** CPU seconds (the whole process while the activity ran) of the costliest activities. */
  costliest: Record<string, number>;
  /** Days Gold's per-customer-day aggregate recomputed (all of them on a full refresh). */
  goldDays?: number;
}

async function measuredRun(home: string, params: Record<string, string | undefined>, asOf: string): Promise<Measured> {
  const cpu0 = cpuSeconds();
  const t0 = Date.now();
  const m: RunManifest = await runPipeline({ home, lake: new LocalLake(join(home, 'lake')), log: silentLogger, asOf, params });
  if (m.status !== 'succeeded') throw new Error(`run failed: ${m.jobs.find((j) => j.status === 'failed')?.error?.message}`);
  const stages: Record<string, number> = {};
  for (const j of m.jobs) stages[j.stage] = Math.round(((stages[j.stage] ?? 0) + (j.durationMs ?? 0) / 1000) * 10) / 10;
  const slowest = Object.fromEntries([...m.jobs].sort((a, b) => (b.durationMs ?? 0) - (a.durationMs ?? 0)).slice(0, 8)
    .map((j) => [j.activity, Math.round((j.durationMs ?? 0) / 100) / 10]));
  const costliest = Object.fromEntries([...m.jobs].sort((a, b) => (b.cpuMs ?? 0) - (a.cpuMs ?? 0)).slice(0, 12)
    .map((j) => [j.activity, Math.round((j.cpuMs ?? 0) / 100) / 10]));
  const goldDays = (m.jobs.find((j) => j.activity === 'gold_daily')?.metrics['customer_daily.maintain'] as { days?: number } | undefined)?.days;
  return { wallS: Math.round((Date.now() - t0) / 100) / 10, cpuS: Math.round((cpuSeconds() - cpu0) * 10) / 10, stages, slowest, costliest, goldDays };
}

export const bench: Bench = {
  name: 'daily',
  description: 'one new day on a 120-day lake vs on a 30-day lake vs a full refresh (20k people at scale 1)',
  async run({ scale, workDir, out }) {
    const customers = Math.round(20000 * scale);
    const sample = await generateSample({ customers, days: 120, seed: 42, out: join(workDir, 'sample') });
    const engine = await Engine.open();
    const long = await splitDailyDrops(engine, sample.out, join(workDir, 'drops-120'), 1);
    const short = await splitDailyDrops(engine, sample.out, join(workDir, 'drops-30'), 1, { historyDays: 29 });
    engine.close();
    const day = long.days[0]!;
    out(`sample: ${customers} people, 120 days; daily drop ${day.date}: ${day.rows} rows`);
    const result: Record<string, unknown> = { customers, day: day.date, dayRows: day.rows };
    for (const [label, drops] of [['day30', short], ['day120', long]] as const) {
      const home = join(workDir, label);
      const history = await measuredRun(home, { input: drops.history }, day.date);
      out(`${label}: history loaded in ${history.wallS}s`);
      const daily = await measuredRun(home, { input: drops.days[0]!.dir }, day.date);
      out(`${label}: daily run ${daily.wallS}s wall, ${daily.cpuS}s CPU ${JSON.stringify(daily.stages)} slowest ${JSON.stringify(daily.slowest)} costliest (CPU s) ${JSON.stringify(daily.costliest)}; Gold days recomputed ${daily.goldDays}`);
      result[label] = { history, daily };
    }
    const full = await measuredRun(join(workDir, 'day120'), { fullRefresh: 'true' }, day.date);
    out(`day120: full refresh ${full.wallS}s wall, ${full.cpuS}s CPU ${JSON.stringify(full.stages)} slowest ${JSON.stringify(full.slowest)}`);
    result.fullRefresh = full;
    const d120 = (result.day120 as { daily: Measured }).daily;
    const d30 = (result.day30 as { daily: Measured }).daily;
    const ratios = {
      dailyOverFullWall: Math.round((d120.wallS / full.wallS) * 100) / 100,
      dailyOverFullCpu: Math.round((d120.cpuS / full.cpuS) * 100) / 100,
      day120OverDay30Wall: Math.round((d120.wallS / d30.wallS) * 100) / 100,
      day120OverDay30Cpu: Math.round((d120.cpuS / d30.cpuS) * 100) / 100,
      silverDailyOverFull: Math.round(((d120.stages.silver_processing ?? 0) / (full.stages.silver_processing ?? 1)) * 100) / 100,
      peakRssMb: maxRssMb(),
    };
    out(`ratios (targets: daily/full <= 0.10, day120/day30 <= 1.3): ${JSON.stringify(ratios)}`);
    return { ...result, ratios };
  },
};
