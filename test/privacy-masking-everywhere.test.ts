// Masking everywhere, on a full sample run: the run's logs and manifests never print the sample's e-mails or phones;
// the local warehouse has a masked analyst view of every table whose PII columns show exactly the masked value (the
// Snowflake policies' rule) and whose other columns are unchanged; the Snowflake DDL sets a policy on every PII column
// of every table, and no warehouse column copied from a PII source column has lost its class.
import { createWriteStream } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALL_CONTRACTS } from '../schemas/index.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { analystSchema } from '../src/privacy/masked-views.ts';
import { maskRow, maskValue } from '../src/privacy/masking.ts';
import { createLogger } from '../src/runtime/logger.ts';
import { generateSample } from '../src/sample/generate.ts';
import { duckdbDialect as d } from '../src/warehouse/dialects/duckdb.ts';
import { WAREHOUSE_TABLES } from '../src/warehouse/model.ts';
import { DEFAULT_SETUP, piiColumns, renderMasking } from '../src/warehouse/snowflake/setup.ts';

let home: string;
let logText: string;
let secrets: string[];

/** The secrets found in a text (case-insensitive). */
const hits = (text: string, values: readonly string[]) => {
  const lower = text.toLowerCase();
  return values.filter((v) => lower.includes(v.toLowerCase()));
};

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-mask-'));
  const sample = join(home, 'sample');
  await generateSample({ customers: 80, days: 20, seed: 11, out: sample });
  const logFile = join(home, 'run.log');
  const stream = createWriteStream(logFile);
  const log = createLogger({ json: true, stream: stream as unknown as NodeJS.WriteStream });
  const m = await runPipeline({ home, lake: new LocalLake(join(home, 'lake')), log, runDate: '2026-10-31', params: { input: sample }, retryIntervalOverride: 0 });
  await new Promise((r) => stream.end(r));
  expect(m.jobs.find((j) => j.status === 'failed')?.error?.message).toBeUndefined();
  logText = await readFile(logFile, 'utf8');
  for (const f of await readdir(join(home, 'runs'))) logText += await readFile(join(home, 'runs', f), 'utf8');
  const e = await Engine.open();
  try {
    const silver = join(home, 'lake', 'silver', 'customer360', 'customers', '*.parquet');
    const rows = await e.all<{ v: string }>(`SELECT DISTINCT v FROM (
      SELECT unnest([EMAIL_ADDRESS, PHONE_NUMBER, PHONE_E164]) AS v FROM read_parquet(${lit(silver)}, union_by_name = true)) WHERE length(v) >= 7 ORDER BY v`);
    secrets = rows.map((r) => r.v);
  } finally {
    e.close();
  }
});

afterAll(async () => {
  if (home) await rm(home, { recursive: true, force: true });
});

describe('logs', () => {
  it('a full run logs and records its jobs without printing any e-mail or phone of the sample', () => {
    expect(secrets.length).toBeGreaterThan(100);
    expect(secrets.some((s) => s.includes('@'))).toBe(true);
    expect(logText.split('\n').length).toBeGreaterThan(50);
    expect(hits(logText, secrets)).toEqual([]);
    // the scan finds what is there
    // (case-insensitive: the sample also writes some e-mails in capitals, which the scan counts as the same secret)
    expect(hits(`${logText} ${secrets[0]}`, secrets)).toEqual(secrets.filter((s) => s.toLowerCase() === secrets[0].toLowerCase()));
  });

  it('example rows in errors are shown masked', () => {
    const pii = new Map(WAREHOUSE_TABLES.find((t) => t.name === 'DIM_CUSTOMER')!.columns.map((c) => [c.name, c.pii]));
    const row = { CUSTOMER360_ID: 'c360_1', EMAIL_ADDRESS: 'jane@example.com', PHONE_NUMBER: '+14155550123', TOTAL_ORDERS: 3 };
    expect(maskRow(pii, row)).toEqual({ CUSTOMER360_ID: 'c360_1', EMAIL_ADDRESS: '*****@example.com', PHONE_NUMBER: '***-0123', TOTAL_ORDERS: 3 });
  });
});

describe('local warehouse analyst views', () => {
  it('every table has a view; PII columns masked by their class, every other column as in the table', async () => {
    const e = await Engine.open({ path: join(home, 'warehouse.duckdb') });
    try {
      await e.run(`CREATE TEMP TABLE secrets AS SELECT unnest([${secrets.map(lit).join(', ')}]) AS v`);
      let masked = 0;
      for (const t of WAREHOUSE_TABLES) {
        const base = d.qualified(t.schema, t.name);
        const view = d.qualified(analystSchema(t.schema), t.name);
        const described = await e.all<{ column_name: string }>(`DESCRIBE ${view}`);
        expect(described.map((r) => r.column_name), t.name).toEqual(t.columns.map((c) => c.name));
        const pii = t.columns.filter((c) => c.pii);
        const cols = t.columns.map((c) => d.ident(c.name)).join(', ');
        if (pii.length === 0) {
          // same rows, same values (both directions, with multiplicity)
          expect(Number(await e.scalar(`SELECT count(*) FROM (SELECT ${cols} FROM ${base} EXCEPT ALL SELECT * FROM ${view})`)), t.name).toBe(0);
          expect(Number(await e.scalar(`SELECT count(*) FROM ${view}`))).toBe(Number(await e.scalar(`SELECT count(*) FROM ${base}`)));
        } else {
          const key = t.primaryKey.map(d.ident).join(', ');
          const rows = await e.all<Record<string, unknown>>(`SELECT ${cols} FROM ${base} ORDER BY ${key}`);
          const shown = await e.all<Record<string, unknown>>(`SELECT * FROM ${view} ORDER BY ${key}`);
          expect(shown.length, t.name).toBe(rows.length);
          rows.forEach((r, i) => {
            for (const c of t.columns) {
              const want = c.pii ? maskValue(c.pii, r[c.name]) : r[c.name];
              expect(String(shown[i]![c.name]), `${t.name}.${c.name}`).toBe(String(want));
              if (c.pii && r[c.name] !== null) masked++;
            }
          });
        }
        // no clear e-mail or phone of the sample in any text column of any analyst view
        const text = t.columns.filter((c) => c.type.kind === 'varchar').map((c) => d.ident(c.name));
        if (text.length) {
          const n = Number(await e.scalar(`SELECT count(*) FROM ${view} WHERE ${text.map((c) => `${c} IN (SELECT v FROM secrets)`).join(' OR ')}`));
          expect(n, t.name).toBe(0);
        }
      }
      expect(masked).toBeGreaterThan(300);
      // the base table does hold them in clear (the check above can fail)
      expect(Number(await e.scalar('SELECT count(*) FROM CUSTOMER_360.DIM_CUSTOMER WHERE EMAIL_ADDRESS IN (SELECT v FROM secrets)'))).toBeGreaterThan(50);
    } finally {
      e.close();
    }
  });
});

describe('Snowflake masking policies', () => {
  it('every PII column of every warehouse table has its class policy set', () => {
    const ddl = renderMasking(DEFAULT_SETUP).join('\n');
    const cols = piiColumns();
    expect(cols.length).toBeGreaterThan(10);
    for (const t of WAREHOUSE_TABLES) {
      for (const c of t.columns.filter((x) => x.pii && x.pii !== 'none')) {
        expect(ddl, `${t.name}.${c.name}`).toMatch(new RegExp(`ALTER TABLE \\S*${t.name} MODIFY COLUMN ${c.name} SET MASKING POLICY \\S+ FORCE`));
      }
    }
  });

  it('no warehouse column named after a PII source column has lost its class', () => {
    const sourcePii = new Map<string, string>();
    for (const c of ALL_CONTRACTS.flatMap((x) => x.columns)) if (c.pii && c.pii !== 'none') sourcePii.set(c.name, c.pii);
    const lost = WAREHOUSE_TABLES.flatMap((t) => t.columns.filter((c) => sourcePii.has(c.name) && !c.pii).map((c) => `${t.name}.${c.name}`));
    expect(lost).toEqual([]);
  });
});
