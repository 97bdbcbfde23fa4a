// `c360 evaluate`: temporal-holdout evaluation of CLV, churn and recommendations against their baselines, on the
// Silver data in the lake (default), the CDNOW sample (--cdnow FILE) or a seeded synthetic world (--synthetic).
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Engine } from '../../engine/duckdb.ts';
import { openLake } from '../../lake/index.ts';
import { LocalLake } from '../../lake/local-lake.ts';
import { evaluate, formatEvaluation } from '../../intelligence/evaluate.ts';
import { latestDate, loadCdnow, loadSilver, type LoadResult } from '../../intelligence/input.ts';
import { DEFAULT_SYNTHETIC, generateWorld, writeSilver } from '../../intelligence/synthetic.ts';
import { UsageError } from '../../runtime/errors.ts';
import { newRunId, writeManifest } from '../../runtime/manifest.ts';
import { HOME_OPTION, homeOf, int, isoDate, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'evaluate',
  summary: 'Offline evaluation on held-out time: recommendations, CLV and churn against their baselines',
  options: {
    ...HOME_OPTION,
    'as-of': { type: 'string', description: 'End of the holdout YYYY-MM-DD; models see data up to as-of minus the horizon (default: latest purchase date)' },
    'horizon-days': { type: 'string', description: 'Holdout length and prediction horizon in days', default: '90' },
    lake: { type: 'string', description: 'Lake location (default: $C360_LAKE_URL or HOME/lake)' },
    cdnow: { type: 'string', description: 'Evaluate CLV and churn on a CDNOW file (e.g. ../shared/data/clv/CDNOW_sample.txt) instead of the lake' },
    synthetic: { type: 'boolean', description: 'Evaluate on a seeded synthetic retail world written to HOME/tmp (no lake data needed)' },
  },
  async run(values, _positionals, io) {
    const home = homeOf(values);
    const horizonDays = int(values, 'horizon-days', 90);
    if (horizonDays < 1) throw new UsageError(`--horizon-days must be at least 1, got ${horizonDays}`);
    const cdnow = str(values, 'cdnow');
    if (cdnow && values.synthetic) throw new UsageError('--cdnow and --synthetic are alternatives; pass one');
    const runId = newRunId();
    const started = Date.now();
    const lake = await openLake(home, str(values, 'lake'));
    const engine = await Engine.open({ tempDirectory: join(home, 'tmp', 'duckdb') });
    const source = cdnow ? `cdnow:${cdnow}` : values.synthetic ? 'synthetic' : `lake:${lake.location}`;
    let synthDir: string | undefined;
    try {
      let load: LoadResult;
      if (cdnow) load = await loadCdnow(engine, cdnow);
      else if (values.synthetic) {
        synthDir = join(home, 'tmp', `synthetic-${runId}`);
        await mkdir(synthDir, { recursive: true });
        const synthLake = new LocalLake(synthDir);
        await writeSilver(engine, synthLake, generateWorld(DEFAULT_SYNTHETIC));
        load = await loadSilver(engine, synthLake);
      } else load = await loadSilver(engine, lake);
      const asOf = isoDate(values, 'as-of') ?? (await latestDate(engine));
      if (!asOf) throw new UsageError(`No completed purchases in ${source}: nothing to evaluate (run the pipeline first, or use --cdnow FILE / --synthetic)`);
      io.log.info('evaluating', { source, asOf, horizonDays });
      const result = await evaluate(engine, asOf, horizonDays);
      for (const line of formatEvaluation(result, `c360 evaluate (${source})`)) io.out(line);
      const ended = Date.now();
      const file = await writeManifest(home, lake, {
        runId, loadId: runId, command: `c360 evaluate ${process.argv.slice(3).join(' ')}`.trim(), pipeline: 'evaluate',
        runDate: new Date(started).toISOString().slice(0, 10), asOf, home, lake: lake.location, status: 'succeeded',
        startedAt: new Date(started).toISOString(), endedAt: new Date(ended).toISOString(), durationMs: ended - started,
        jobs: [{
          activity: 'evaluate', stage: 'evaluate', job: 'evaluate', params: { source, asOf, horizonDays: String(horizonDays) }, status: 'succeeded',
          attempts: 1, startedAt: new Date(started).toISOString(), endedAt: new Date(ended).toISOString(), durationMs: ended - started,
          inputs: load.inputs, outputs: [],
          rowCounts: { ...Object.fromEntries(Object.entries(load.rowCounts).map(([k, v]) => [`input.${k}`, v])), ...Object.fromEntries(Object.entries(load.excluded).map(([k, v]) => [`excluded.${k}`, v])) },
          metrics: { evaluation: result },
        }],
      });
      io.log.info('evaluation written', { manifest: file });
      return 0;
    } finally {
      engine.close();
      if (synthDir) await rm(synthDir, { recursive: true, force: true });
    }
  },
};
