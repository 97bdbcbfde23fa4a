// `c360 sample`: writes deterministic sample drops for the 12 source tables plus the truth (see docs/sample-data.md).
import { UsageError } from '../../runtime/errors.ts';
import { DEFAULT_DEFECT_RATE, DEFAULT_DUPLICATE_PERSON_RATE, DEFAULT_END_DATE, DEFAULT_SAMPLE, generateSample } from '../../sample/generate.ts';
import { Engine } from '../../engine/duckdb.ts';
import { splitDailyDrops } from '../../sample/daily-drops.ts';
import { int, isoDate, requireStr, str, type Command, type Values } from '../command.ts';

function rate(values: Values, name: string, fallback: number): number {
  const v = str(values, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new UsageError(`--${name} must be a number between 0 and 1, got '${v}'`);
  return n;
}

export const command: Command = {
  name: 'sample',
  summary: 'Generate deterministic sample drops for the 12 source tables, with injected defects, duplicate persons and their truth',
  options: {
    customers: { type: 'string', description: 'Number of people (CUSTOMERS holds ~1.2 records per person)', default: String(DEFAULT_SAMPLE.customers) },
    days: { type: 'string', description: 'Days of history, ending on --end-date', default: String(DEFAULT_SAMPLE.days) },
    seed: { type: 'string', description: 'Random seed (same seed and flags, same files)', default: String(DEFAULT_SAMPLE.seed) },
    out: { type: 'string', description: 'Output folder: <TABLE>.parquet per table and _truth/' },
    'defect-rate': { type: 'string', description: 'Share of rows per table that are injected defects', default: String(DEFAULT_DEFECT_RATE) },
    'duplicate-person-rate': { type: 'string', description: 'Share of people with 2-3 records across source systems', default: String(DEFAULT_DUPLICATE_PERSON_RATE) },
    'end-date': { type: 'string', description: 'Last day of the generated window YYYY-MM-DD', default: DEFAULT_END_DATE },
    'daily-drops': { type: 'string', description: 'Also split the sample into OUT/history/ and one OUT/day-YYYY-MM-DD/ per last N days (with late and corrected records)' },
    json: { type: 'boolean', description: 'JSON log lines even on a terminal' },
  },
  async run(values, _positionals, io) {
    const summary = await generateSample({
      customers: int(values, 'customers', DEFAULT_SAMPLE.customers),
      days: int(values, 'days', DEFAULT_SAMPLE.days),
      seed: int(values, 'seed', DEFAULT_SAMPLE.seed),
      out: requireStr(values, 'out'),
      defectRate: rate(values, 'defect-rate', DEFAULT_DEFECT_RATE),
      duplicatePersonRate: rate(values, 'duplicate-person-rate', DEFAULT_DUPLICATE_PERSON_RATE),
      endDate: isoDate(values, 'end-date'),
      log: io.log,
    });
    let total = 0;
    for (const [table, t] of Object.entries(summary.tables)) {
      total += t.rows;
      io.out(`${table.padEnd(32)} ${String(t.rows).padStart(10)} rows  ${String(t.defects).padStart(8)} defects`);
    }
    const daily = str(values, 'daily-drops');
    if (daily !== undefined) {
      const engine = await Engine.open();
      try {
        const r = await splitDailyDrops(engine, summary.out, summary.out, Number(daily));
        io.out(`daily drops: ${r.history} and ${r.days.length} day folders (${r.days.map((d) => `${d.date}: ${d.rows} rows`).join(', ')})`);
      } finally {
        engine.close();
      }
    }
    io.out(`${summary.persons} people, ${summary.identityRecords} valid customer records, ${total} rows, window ${summary.window.start}..${summary.window.end}, ${summary.seconds}s -> ${summary.out}`);
    return 0;
  },
};
