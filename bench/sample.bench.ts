// Sample generation throughput: rows/s over all 12 tables at 20k people per scale unit (--scale 5 = 100k people),
// with the ratio to a floor measured in the same run (DuckDB re-copying the generated Parquet files, i.e. the
// cost of the rows' I/O alone), CPU seconds (less sensitive to a shared machine than wall time) and peak RSS.
import { join } from 'node:path';
import { CONTRACTS } from '../schemas/index.ts';
import type { Bench } from '../src/cli/commands/bench.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { generateSample } from '../src/sample/generate.ts';
import { cpuSeconds as cpu, maxRssMb } from './measure.ts';

export const bench: Bench = {
  name: 'sample',
  description: 'c360 sample: rows/s at 20k people x scale (180 days), vs DuckDB re-copying the same Parquet (floor)',
  async run(ctx) {
    const customers = Math.round(20_000 * ctx.scale);
    const out = join(ctx.workDir, 'sample');
    let t = performance.now();
    let c = cpu();
    const summary = await generateSample({ customers, days: 180, seed: 1, out });
    const seconds = (performance.now() - t) / 1000;
    const cpuSeconds = cpu() - c;
    const rss = maxRssMb();
    const rows = Object.values(summary.tables).reduce((s, x) => s + x.rows, 0);

    const engine = await Engine.open({ tempDirectory: join(ctx.workDir, 'duckdb-tmp') });
    t = performance.now();
    c = cpu();
    try {
      for (const contract of CONTRACTS) {
        await engine.run(`COPY (SELECT * FROM read_parquet(${lit(join(out, `${contract.name}.parquet`))})) TO ${lit(join(ctx.workDir, `floor-${contract.name}.parquet`))} (FORMAT parquet, COMPRESSION zstd)`);
      }
    } finally {
      engine.close();
    }
    const floor = (performance.now() - t) / 1000;
    const floorCpu = cpu() - c;
    const result = {
      people: customers,
      rows,
      seconds: Math.round(seconds * 10) / 10,
      rowsPerSecond: Math.round(rows / seconds),
      cpuSeconds: Math.round(cpuSeconds * 10) / 10,
      floorSeconds: Math.round(floor * 10) / 10,
      ratioToFloor: Math.round((seconds / floor) * 10) / 10,
      cpuRatioToFloor: Math.round((cpuSeconds / Math.max(0.01, floorCpu)) * 10) / 10,
      peakRssMb: rss,
      tables: Object.fromEntries(Object.entries(summary.tables).map(([k, v]) => [k, v.rows])),
    };
    ctx.out(`${customers} people -> ${rows} rows in ${result.seconds} s: ${result.rowsPerSecond} rows/s, ${result.ratioToFloor}x the floor (cpu ${result.cpuRatioToFloor}x), peak RSS ${rss} MB`);
    return result;
  },
};
