// `c360 evaluate`: temporal-holdout evaluation of CLV, churn and recommendations against their baselines, on the
// Silver data in the lake (default), any transaction file with a column mapping (--transactions FILE --customer COL
// ...), the CDNOW sample (--cdnow FILE) or a seeded synthetic world (--synthetic). Prints Markdown tables and writes
// them as a report file.
import { mkdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, resolve } from 'node:path';
import { Engine } from '../../engine/duckdb.ts';
import { openLake } from '../../lake/index.ts';
import { LocalLake } from '../../lake/local-lake.ts';
import { evaluate, formatEvaluation } from '../../intelligence/evaluate.ts';
import { latestDate, loadCdnow, loadSilver, type LoadResult } from '../../intelligence/input.ts';
import { loadTransactionFile } from '../../intelligence/transactions-file.ts';
import { addDays } from '../../runtime/days.ts';
import { DEFAULT_SYNTHETIC, generateWorld, writeSilver } from '../../intelligence/synthetic.ts';
import { UsageError } from '../../runtime/errors.ts';
import { newRunId, writeManifest } from '../../runtime/manifest.ts';
import { owned } from '../../runtime/tmp.ts';
import { HOME_OPTION, homeOf, int, isoDate, str, type Command } from '../command.ts';

export const command: Command = {
  name: 'evaluate',
  summary: 'Offline evaluation on held-out time: recommendations, CLV and churn against their baselines',
  options: {
    ...HOME_OPTION,
    'as-of': { type: 'string', description: 'End of the holdout YYYY-MM-DD; models see data up to as-of minus the horizon (default: latest purchase date)' },
    cutoff: { type: 'string', description: 'Last day models may see YYYY-MM-DD (the holdout is the horizon after it); an alternative to --as-of' },
    'horizon-days': { type: 'string', description: 'Holdout length and prediction horizon in days', default: '90' },
    lake: { type: 'string', description: 'Lake location (default: $C360_LAKE_URL or HOME/lake)' },
    cdnow: { type: 'string', description: 'Evaluate CLV and churn on a CDNOW file (e.g. ../shared/data/clv/CDNOW_sample.txt) instead of the lake' },
    synthetic: { type: 'boolean', description: 'Evaluate on a seeded synthetic retail world written to HOME/tmp (no lake data needed)' },
    transactions: { type: 'string', description: 'Evaluate on a transaction file (CSV with a header, or Parquet), one row per purchase line' },
    customer: { type: 'string', description: 'With --transactions: the customer id column (required)' },
    product: { type: 'string', description: 'With --transactions: the product id column (without it, no recommendations)' },
    time: { type: 'string', description: 'With --transactions: the purchase date/time column (required)' },
    'time-format': { type: 'string', description: 'With --transactions: strptime format of --time, e.g. %d/%m/%Y (default: ISO, or yyyymmdd)' },
    quantity: { type: 'string', description: 'With --transactions: the quantity column (negative = a return)' },
    amount: { type: 'string', description: 'With --transactions: the line spend column (negative = a return; default: quantity)' },
    basket: { type: 'string', description: "With --transactions: the basket/order id column (default: a customer's day)" },
    catalogue: { type: 'string', description: 'With --transactions: product catalogue file keyed by the --product column (category/product_category/department, brand, product_name)' },
    report: { type: 'string', description: 'Report file to write (default: HOME/reports/evaluate-<run id>.md)' },
    bootstrap: { type: 'string', description: 'Bootstrap resamples for the intervals', default: '200' },
  },
  async run(values, _positionals, io) {
    const home = homeOf(values);
    const horizonDays = int(values, 'horizon-days', 90);
    if (horizonDays < 1) throw new UsageError(`--horizon-days must be at least 1, got ${horizonDays}`);
    const cdnow = str(values, 'cdnow');
    const transactions = str(values, 'transactions');
    if ([cdnow, values.synthetic, transactions].filter(Boolean).length > 1) throw new UsageError('--cdnow, --synthetic and --transactions are alternatives; pass one');
    const mapping = ['customer', 'product', 'time', 'time-format', 'quantity', 'amount', 'basket', 'catalogue'].filter((k) => str(values, k) !== undefined);
    if (!transactions && mapping.length) throw new UsageError(`--${mapping[0]} maps a column of --transactions FILE; pass --transactions too`);
    if (transactions && !str(values, 'customer')) throw new UsageError('--transactions needs --customer COL (the customer id column)');
    if (transactions && !str(values, 'time')) throw new UsageError('--transactions needs --time COL (the purchase date/time column)');
    const cutoff = isoDate(values, 'cutoff');
    const asOfOption = isoDate(values, 'as-of');
    if (cutoff && asOfOption) throw new UsageError('--cutoff and --as-of are alternatives (as-of = cutoff + horizon); pass one');
    const samples = int(values, 'bootstrap', 200);
    if (samples < 10) throw new UsageError(`--bootstrap must be at least 10, got ${samples}`);
    const runId = newRunId();
    const started = Date.now();
    const lake = await openLake(home, str(values, 'lake'));
    const engine = await Engine.open({ tempDirectory: join(home, 'tmp', 'duckdb') });
    const source = transactions ? `transactions:${transactions}` : cdnow ? `cdnow:${cdnow}` : values.synthetic ? 'synthetic' : `lake:${lake.location}`;
    let synthDir: string | undefined;
    try {
      let load: LoadResult;
      if (transactions) {
        const t = await loadTransactionFile(engine, {
          file: transactions, customer: str(values, 'customer')!, product: str(values, 'product'), time: str(values, 'time')!, timeFormat: str(values, 'time-format'),
          quantity: str(values, 'quantity'), amount: str(values, 'amount'), basket: str(values, 'basket'), catalogue: str(values, 'catalogue'),
        });
        for (const [reason, n] of Object.entries(t.excluded)) io.log.warn('lines left out', { reason, lines: n, examples: t.examples[reason] });
        load = t;
      } else if (cdnow) load = await loadCdnow(engine, cdnow);
      else if (values.synthetic) {
        synthDir = join(home, 'tmp', owned(`synthetic-${runId}`));
        await mkdir(synthDir, { recursive: true });
        const synthLake = new LocalLake(synthDir);
        await writeSilver(engine, synthLake, generateWorld(DEFAULT_SYNTHETIC));
        load = await loadSilver(engine, synthLake);
      } else load = await loadSilver(engine, lake);
      const asOf = cutoff ? addDays(cutoff, horizonDays) : asOfOption ?? (await latestDate(engine));
      if (!asOf) throw new UsageError(`No completed purchases in ${source}: nothing to evaluate (run the pipeline first, or use --transactions FILE / --cdnow FILE / --synthetic)`);
      io.log.info('evaluating', { source, asOf, horizonDays });
      const result = await evaluate(engine, asOf, horizonDays, { samples });
      const text = formatEvaluation(result, `c360 evaluate (${source})`);
      if (Object.keys(load.excluded).length) text.push('', `Input lines left out (by reason): ${Object.entries(load.excluded).map(([k, v]) => `${k} ${v}`).join(', ')}`);
      for (const line of text) io.out(line);
      const report = resolve(str(values, 'report') ?? join(home, 'reports', `evaluate-${runId}.md`));
      await mkdir(dirname(report), { recursive: true });
      await writeFile(report, text.join('\n') + '\n');
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
      io.log.info('evaluation written', { manifest: file, report });
      return 0;
    } finally {
      engine.close();
      if (synthDir) await rm(synthDir, { recursive: true, force: true });
    }
  },
};
