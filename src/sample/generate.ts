// `c360 sample`: deterministic, contract-derived sample drops for the 12 source tables, with injected defects and
// duplicate persons, and the truth about both in DIR/_truth/. People are generated one at a time and their rows
// spooled to scratch CSV files, which DuckDB's parallel reader copies to Parquet: memory stays flat at any size.
// Every column is written as VARCHAR text in canonical form (dates 'YYYY-MM-DD', timestamps 'YYYY-MM-DD HH:MM:SS'
// UTC, decimals '12.34', booleans 'true'/'false') so that wrong-type defects can exist.
import { mkdir, rename, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { CONTRACTS, getContract } from '../../schemas/index.ts';
import { Engine, ident, lit } from '../engine/duckdb.ts';
import { UsageError } from '../runtime/errors.ts';
import { silentLogger, type Logger } from '../runtime/logger.ts';
import { buildCatalogue, catalogueSize } from './catalogue.ts';
import { CsvSpool } from './csv-spool.ts';
import { emitCommerce, planPurchases } from './commerce.ts';
import type { Sinks, Window, World } from './context.ts';
import { emitDigital } from './digital.ts';
import { emitExternal } from './external.ts';
import { emitEngagement, emitPreferences, makeCampaigns } from './marketing.ts';
import { assignRecords, customerRows, CustomerIds, EmailRegistry, junkCustomer, makePerson } from './persons.ts';
import { hashSeed, Rng } from './prng.ts';
import { LOCATIONS } from './reference-data.ts';
import { emitService } from './service.ts';
import { formatValue, TableSink, type DefectTruth } from './sink.ts';
import { DAY, formatDate, parseDay } from './time.ts';

export interface SampleOptions {
  /** Number of people; CUSTOMERS holds about 1.2 records per person (duplicates across source systems). */
  customers: number;
  days: number;
  seed: number;
  out: string;
  log?: Logger;
  /** Share of rows per table that are injected defects (default 0.02). */
  defectRate?: number;
  /** Share of people with 2-3 customer records across source systems (default 0.15). */
  duplicatePersonRate?: number;
  /** Last day of the window, YYYY-MM-DD (default 2026-10-31: fixed, so output never depends on the clock). */
  endDate?: string;
}

export const DEFAULT_SAMPLE = { customers: 2000, days: 180, seed: 42 };
export const DEFAULT_END_DATE = '2026-10-31';
export const DEFAULT_DEFECT_RATE = 0.02;
export const DEFAULT_DUPLICATE_PERSON_RATE = 0.15;

/** The extra column CUSTOMERS drops carry: the source system of each record. */
export const SOURCE_SYSTEM_COLUMN = 'SOURCE_SYSTEM';
export const TRUTH_DIR = '_truth';

/** Primary-key prefixes of generated ids (CUSTOMERS ids are prefixed per source system instead). */
const ID_PREFIX: Record<string, string> = {
  CUSTOMERS: 'X', MARKETING_CAMPAIGNS: 'CMP', CUSTOMER_TRANSACTIONS: 'TXN', CUSTOMER_TRANSACTION_ITEMS: 'ITM',
  CUSTOMER_SESSION_DATA: 'SES', CUSTOMER_BEHAVIORAL_EVENTS: 'EVT', CUSTOMER_ENGAGEMENT_EVENTS: 'ENG',
  CUSTOMER_PREFERENCE_DATA: 'PRF', CUSTOMER_SERVICE_TICKETS: 'TKT', CUSTOMER_SERVICE_INTERACTIONS: 'INT',
  EXTERNAL_CUSTOMER_PROFILES: 'PRO', EXTERNAL_CUSTOMER_SENTIMENT: 'SNT',
};

export interface SampleSummary {
  out: string;
  persons: number;
  window: { start: string; end: string };
  tables: Record<string, { rows: number; defects: number }>;
  identityRecords: number;
  seconds: number;
}

function checkOptions(o: SampleOptions): Required<Omit<SampleOptions, 'log'>> {
  const whole = (name: string, v: number, min: number) => {
    if (!Number.isInteger(v) || v < min) throw new UsageError(`--${name} must be a whole number >= ${min}, got ${v}`);
  };
  whole('customers', o.customers, 1);
  whole('days', o.days, 1);
  whole('seed', o.seed, 0);
  const defectRate = o.defectRate ?? DEFAULT_DEFECT_RATE;
  const duplicatePersonRate = o.duplicatePersonRate ?? DEFAULT_DUPLICATE_PERSON_RATE;
  if (!(defectRate >= 0 && defectRate <= 0.5)) throw new UsageError(`--defect-rate must be between 0 and 0.5, got ${defectRate}`);
  if (!(duplicatePersonRate >= 0 && duplicatePersonRate <= 1)) throw new UsageError(`--duplicate-person-rate must be between 0 and 1, got ${duplicatePersonRate}`);
  const endDate = o.endDate ?? DEFAULT_END_DATE;
  try {
    parseDay(endDate);
  } catch {
    throw new UsageError(`--end-date must be a valid date YYYY-MM-DD, got '${endDate}'`);
  }
  return { customers: o.customers, days: o.days, seed: o.seed, out: resolve(o.out), defectRate, duplicatePersonRate, endDate };
}

export async function generateSample(options: SampleOptions): Promise<SampleSummary> {
  const opts = checkOptions(options);
  const log = options.log ?? silentLogger;
  const began = performance.now();
  const { out, seed } = opts;
  await mkdir(join(out, TRUTH_DIR), { recursive: true });
  await rm(join(out, 'CUSTOMERS.parquet'), { force: true });
  const work = join(out, `.sample-work-${process.pid}`);
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { recursive: true });
  const engine = await Engine.open({ tempDirectory: join(work, 'duckdb-tmp') });
  const spools: CsvSpool[] = [];
  const spool = (name: string, columns: { name: string; type: string }[]) => {
    const s = new CsvSpool(join(work, `${name}.csv`), columns);
    spools.push(s);
    return s;
  };
  try {
    const tableSpools = new Map<string, CsvSpool>();
    for (const c of CONTRACTS) {
      const cols = c.columns.map((col) => ({ name: col.name, type: 'VARCHAR' }));
      if (c.name === 'CUSTOMERS') cols.push({ name: SOURCE_SYSTEM_COLUMN, type: 'VARCHAR' });
      tableSpools.set(c.name, spool(c.name, cols));
    }
    const v = (...names: string[]) => names.map((name) => ({ name, type: 'VARCHAR' }));
    const defectsOut = spool('truth_defects', [...v('TABLE'), { name: 'ROW_NUMBER', type: 'BIGINT' }, ...v('PRIMARY_KEY', 'REASONS'), { name: 'DUPLICATE_OF_ROW', type: 'INTEGER' }]);
    const identityOut = spool('truth_identity', v('SOURCE_SYSTEM', 'CUSTOMER_ID', 'PERSON_ID'));
    const personsOut = spool('truth_persons', [...v('PERSON_ID', 'CUSTOMER_IDS', 'KIND', 'SHOPPER'), { name: 'REGISTRATION_DATE', type: 'DATE' }, { name: 'CHURN_DATE', type: 'DATE' }, { name: 'PURCHASES_PER_30_DAYS', type: 'DOUBLE' }, ...v('FAVOURITE_CATEGORIES')]);
    const onDefect = (t: DefectTruth) =>
      defectsOut.write([t.table, String(t.rowNumber), t.primaryKey, t.reasons.join('|'), t.duplicateOfRow === null ? null : String(t.duplicateOfRow)]);

    const endDay = parseDay(opts.endDate);
    const window: Window = { start: endDay - (opts.days - 1) * DAY, end: endDay + DAY - 1 };
    const catalogue = buildCatalogue(hashSeed(seed, 2), catalogueSize(opts.customers));
    const stores = LOCATIONS.map((l, i) => Array.from({ length: Math.max(1, Math.round(l.weight / 3)) }, (_, k) => `STR-${String(i + 1).padStart(3, '0')}-${k + 1}`));
    const allStores = stores.flat();
    const ids = new CustomerIds();
    const emails = new EmailRegistry();
    const junkRng = new Rng(hashSeed(seed, 3));
    const customersContract = getContract('CUSTOMERS');

    const sinks = {} as Record<string, TableSink>;
    for (const [i, c] of CONTRACTS.entries()) {
      sinks[c.name] = new TableSink(c, tableSpools.get(c.name)!, {
        defectRate: opts.defectRate,
        seed: hashSeed(seed, 4, i),
        idPrefix: ID_PREFIX[c.name]!,
        idDigits: c.name === 'MARKETING_CAMPAIGNS' ? 6 : 11,
        onDefect,
        // CUSTOMERS defects are junk records of nobody's (no fact references them, no person loses a record).
        defectBase:
          c.name === 'CUSTOMERS'
            ? () => {
                const junk = junkCustomer(junkRng, window, catalogue, ids, allStores, emails);
                return { row: customersContract.columns.map((col) => formatValue(col, junk.row[col.name])), extra: [junk.record.system] };
              }
            : undefined,
      });
    }
    const world: World = { window, catalogue, campaigns: [], sinks: sinks as unknown as Sinks, stores };
    world.campaigns = makeCampaigns(new Rng(hashSeed(seed, 5)), world, world.sinks.MARKETING_CAMPAIGNS);

    let previous: ReturnType<typeof makePerson> | null = null;
    let identityRecords = 0;
    for (let i = 0; i < opts.customers; i++) {
      const rng = new Rng(hashSeed(seed, 1, i));
      // A few people share a household (surname and address) with the previous person: hard negatives for matching.
      const household = previous !== null && rng.chance(0.04) ? previous : null;
      const person = makePerson(i, rng, window, catalogue, household, emails);
      assignRecords(person, rng, opts.duplicatePersonRate, ids);
      const planned = planPurchases(person, rng, world);
      const engagement = emitEngagement(person, rng, world);
      const commerce = emitCommerce(person, rng, world, planned.concat(engagement.conversions));
      const digital = emitDigital(person, rng, world, commerce.orders);
      emitPreferences(person, rng, world, engagement.unsubscribed);
      emitService(person, rng, world, commerce.returns, person.records.some((r) => r.system === 'SUPPORT'));
      emitExternal(person, rng, world);
      const rows = customerRows(person, rng, window, { lastLogin: digital.lastLogin, loyaltyPoints: commerce.loyaltyPoints, lastActivity: commerce.lastPurchase }, stores[person.locationIndex]!, emails);
      for (const { record, row } of rows) {
        world.sinks.CUSTOMERS.add(row, [record.system]);
        identityOut.write([record.system, record.id, person.personId]);
        identityRecords++;
      }
      personsOut.write([
        person.personId,
        person.records.map((r) => r.id).join(','),
        person.kind,
        person.shopper,
        formatDate(person.registration),
        person.churnAt !== null && person.churnAt <= window.end ? formatDate(person.churnAt) : null,
        String(person.kind === 'regular' ? Math.round(person.rate * 30 * 1000) / 1000 : 0),
        person.favourites.map((c) => catalogue.categories[c]).join('|'),
      ]);
      previous = person;
      if ((i + 1) % 500 === 0) log.progress('generating sample', { persons: i + 1, of: opts.customers, rows: totalRows(sinks) });
    }
    for (const s of Object.values(sinks)) s.finish();
    for (const sp of spools) sp.close();

    log.info('rows spooled, writing parquet', { rows: totalRows(sinks), rssMb: Math.round(process.memoryUsage().rss / 1e6), peakRssMb: Math.round(process.resourceUsage().maxRSS / 1024) });
    await copyOut(
      engine,
      `SELECT d."TABLE", d.ROW_NUMBER, d.PRIMARY_KEY,
         CASE WHEN d.REASONS = '' THEN []::VARCHAR[] ELSE string_split(d.REASONS, '|') END AS REASONS, d.DUPLICATE_OF_ROW
       FROM ${defectsOut.reader()} d JOIN (VALUES ${CONTRACTS.map((c, i) => `(${lit(c.name)}, ${i})`).join(', ')}) t(name, ord) ON t.name = d."TABLE"
       ORDER BY t.ord, d.ROW_NUMBER`,
      join(out, TRUTH_DIR, 'defects.parquet'),
    );
    await copyOut(engine, `SELECT * FROM ${identityOut.reader()}`, join(out, TRUTH_DIR, 'identity.parquet'));
    await copyOut(
      engine,
      `SELECT PERSON_ID, string_split(CUSTOMER_IDS, ',') AS CUSTOMER_IDS, KIND, SHOPPER, REGISTRATION_DATE, CHURN_DATE, PURCHASES_PER_30_DAYS,
         string_split(FAVOURITE_CATEGORIES, '|') AS FAVOURITE_CATEGORIES FROM ${personsOut.reader()}`,
      join(out, TRUTH_DIR, 'persons.parquet'),
    );

    // CUSTOMERS.parquet is written last: its presence means the drop is complete (`c360 start` relies on it).
    for (const c of [...CONTRACTS.filter((x) => x.name !== 'CUSTOMERS'), customersContract]) {
      const sp = tableSpools.get(c.name)!;
      log.progress('writing parquet', { table: c.name, rows: sp.rows });
      await copyOut(engine, `SELECT ${sp.selectList()} FROM ${sp.reader()}`, join(out, `${c.name}.parquet`));
    }
    const tables: SampleSummary['tables'] = {};
    for (const c of CONTRACTS) tables[c.name] = { rows: sinks[c.name]!.rows, defects: sinks[c.name]!.defects };
    const summary: SampleSummary = {
      out,
      persons: opts.customers,
      window: { start: formatDate(window.start), end: formatDate(window.end) },
      tables,
      identityRecords,
      seconds: Math.round(performance.now() - began) / 1000,
    };
    log.info('sample generated', { out, persons: opts.customers, rows: totalRows(sinks), seconds: summary.seconds });
    return summary;
  } finally {
    for (const sp of spools) sp.closeQuietly();
    engine.close();
    await rm(work, { recursive: true, force: true });
  }
}

function totalRows(sinks: Record<string, TableSink>): number {
  let n = 0;
  for (const s of Object.values(sinks)) n += s.rows;
  return n;
}

/** Writes a query to Parquet atomically (temp file in the same folder, then rename). */
async function copyOut(engine: Engine, sql: string, file: string): Promise<void> {
  const tmp = `${file}.tmp-${process.pid}`;
  await engine.run(`COPY (${sql}) TO ${lit(tmp)} (FORMAT parquet, COMPRESSION zstd)`);
  await rename(tmp, file);
}
