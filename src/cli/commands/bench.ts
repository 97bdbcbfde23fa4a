// `npm run bench`: runs the benchmarks in bench/*.bench.ts and prints throughput, ratios to floors measured in the
// same run, and peak memory. Figures are ratios because the machines are shared and noisy.
import { readdir } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HOME_OPTION, type Command } from '../command.ts';

export interface BenchContext {
  /** Scale factor requested with --scale (1 = the benchmark's documented default). */
  scale: number;
  workDir: string;
  out: (line: string) => void;
}

export interface Bench {
  name: string;
  description: string;
  run(ctx: BenchContext): Promise<Record<string, unknown>>;
}

const BENCH_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', 'bench');

export const command: Command = {
  name: 'bench',
  summary: 'Run benchmarks (bench/*.bench.ts): rows/s, ratio to a floor measured in the same run, peak memory',
  options: {
    ...HOME_OPTION,
    only: { type: 'string', description: 'Comma-separated benchmark names' },
    scale: { type: 'string', description: 'Scale factor (1 = default size of each benchmark)', default: '1' },
    out: { type: 'string', description: 'Write results as JSON to this file' },
  },
  async run(values, _p, io) {
    const { mkdtemp, writeFile, rm } = await import('node:fs/promises');
    const { tmpdir } = await import('node:os');
    const only = typeof values.only === 'string' ? values.only.split(',') : undefined;
    const files = (await readdir(BENCH_DIR)).filter((f) => f.endsWith('.bench.ts')).sort();
    const results: Record<string, unknown> = {};
    for (const f of files) {
      const { bench } = (await import(join(BENCH_DIR, f))) as { bench: Bench };
      if (only && !only.includes(bench.name)) continue;
      const workDir = await mkdtemp(join(tmpdir(), `c360-bench-${bench.name}-`));
      io.out(`\n== ${bench.name}: ${bench.description}`);
      try {
        results[bench.name] = await bench.run({ scale: Number(values.scale ?? 1), workDir, out: io.out });
      } finally {
        await rm(workDir, { recursive: true, force: true });
      }
    }
    if (typeof values.out === 'string') await writeFile(values.out, JSON.stringify(results, null, 2));
    return 0;
  },
};
