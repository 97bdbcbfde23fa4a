// Intelligence at scale: the four model steps (snapshot, CLV + churn, segments, recommendations) on a synthetic Silver
// world of 5,000 customers x scale, against a DuckDB floor measured in the same run (one scan of the Silver inputs
// plus one write of a Gold-sized output).
import { join } from 'node:path';
import type { Bench } from '../src/cli/commands/bench.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/index.ts';
import { buildSnapshot } from '../src/intelligence/features.ts';
import { loadSilver } from '../src/intelligence/input.ts';
import { recommend, scoreCustomers, segmentCustomers } from '../src/intelligence/models.ts';
import { generateWorld, writeSilver } from '../src/intelligence/synthetic.ts';
import { maxRssMb, sampleRss } from './measure.ts';

export const bench: Bench = {
  name: 'intelligence',
  description: 'features + CLV/churn + segments + recommendations on 5,000 x scale synthetic customers, ratio to a scan+write floor',
  async run({ scale, workDir, out }) {
    const customers = Math.round(5000 * scale);
    const lake = new LocalLake(join(workDir, 'lake'));
    const setup = await Engine.open();
    const world = generateWorld({ customers, days: 240, start: '2026-01-01', seed: 3 });
    await writeSilver(setup, lake, world);
    setup.close();
    const asOf = '2026-08-28';

    const floorEngine = await Engine.open();
    let t = performance.now();
    const files = (await lake.list('silver/customer360/')).map((f) => f.path);
    for (const f of files) {
      const local = await lake.localPath(f);
      await floorEngine.run(`COPY (SELECT * FROM read_parquet(${lit(local)})) TO ${lit(join(workDir, 'floor.parquet'))} (FORMAT parquet)`);
    }
    const floorMs = performance.now() - t;
    floorEngine.close();

    const engine = await Engine.open();
    // Peak RSS of the model steps alone, sampled (the process peak also holds the generated world's JS objects).
    const stepsRss = sampleRss(25);
    const cpu0 = process.cpuUsage();
    const steps: Record<string, number> = {};
    // CPU per step too: on a shared machine wall time swings with the neighbours' load, CPU time much less.
    let lapCpu = process.cpuUsage();
    const lap = (name: string) => {
      const now = performance.now();
      steps[name] = Math.round(now - t);
      const c = process.cpuUsage(lapCpu);
      steps[name.replace(/_ms$/, '_cpu_ms')] = Math.round((c.user + c.system) / 1000);
      lapCpu = process.cpuUsage();
      t = now;
    };
    t = performance.now();
    lapCpu = process.cpuUsage();
    await loadSilver(engine, lake, asOf);
    const snap = await buildSnapshot(engine, asOf);
    lap('load_and_snapshot_ms');
    await scoreCustomers(engine, asOf, 90, snap);
    lap('clv_churn_ms');
    segmentCustomers(snap, 5, 42, '2026-01-01');
    lap('segments_ms');
    await recommend(engine, snap, 90, 10, '2026-01-01');
    lap('recommendations_ms');
    const stepsPeak = stepsRss.stop();
    engine.close();
    const cpu = process.cpuUsage(cpu0);
    const totalMs = Object.entries(steps).filter(([k]) => !k.endsWith('_cpu_ms')).reduce((a, [, b]) => a + b, 0);
    const result = {
      customers,
      transactions: world.transactions.length,
      events: world.events.length,
      ...steps,
      total_ms: totalMs,
      floor_ms: Math.round(floorMs),
      ratio_to_floor: Number((totalMs / floorMs).toFixed(1)),
      cpu_ms: Math.round((cpu.user + cpu.system) / 1000),
      customers_per_s: Math.round(customers / (totalMs / 1000)),
      peak_rss_steps_mb: Math.round(stepsPeak / 2 ** 20),
      // maxRSS is the process's peak (KiB), DuckDB's native memory and the world generation included.
      peak_rss_mb: maxRssMb(),
    };
    out(JSON.stringify(result));
    return result;
  },
};
