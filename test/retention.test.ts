// Retention on a full sample run: `c360 retention` as of a date that puts the cutoff of the 25-month tables inside the
// sample's 14 days (and the 12-month tables' past all of it, the longer ones' before it), killed (SIGKILL) in the
// middle and re-run. Then, for every dataset under retention in every layer and its warehouse table: no row before
// the cutoff is left, every row from the cutoff on is unchanged, the report counts exactly what was there before;
// datasets not under retention are byte-identical, and a further run changes nothing.
import { spawnSync } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine, ident, lit, litList } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { generateSample } from '../src/sample/generate.ts';
import { RETENTION_AUDIT_DIR, retentionTargets, type RetentionReport, type RetentionTarget } from '../src/privacy/retention.ts';
import { PENDING_DIR } from '../src/privacy/erasure.ts';
import { RETENTION, retentionCutoff } from '../schemas/retention.ts';
import { ALL_CONTRACTS } from '../schemas/index.ts';
import { CATALOGUE } from '../src/catalogue/index.ts';

const ROOT = join(import.meta.dirname, '..');
// 25 months after 2026-10-25: the 25-month tables keep the sample's last week and lose the one before.
const AS_OF = '2028-11-25';
let home: string;
let lake: string;
let before: string;
let engine: Engine;
let killed: ReturnType<typeof spawnSync>;
let report: RetentionReport;
let again: RetentionReport;
let afterSecond: Map<string, string>;
let afterThird: Map<string, string>;

function cli(args: string[], env: Record<string, string> = {}) {
  return spawnSync(process.execPath, [join(ROOT, 'bin/c360.mjs'), ...args], { cwd: ROOT, env: { ...process.env, ...env, C360_DUCKDB_MEMORY_LIMIT: '1GB' }, encoding: 'utf8' });
}

async function files(root: string, skip: readonly string[] = []): Promise<string[]> {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const e of await readdir(root, { withFileTypes: true, recursive: true })) {
    if (!e.isFile()) continue;
    const rel = relative(root, join(e.parentPath, e.name));
    if (!skip.some((s) => rel.startsWith(s))) out.push(rel);
  }
  return out.sort();
}

async function checksums(root: string): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const f of await files(root, ['_audit/', '_privacy/'])) out.set(f, createHash('sha256').update(await readFile(join(root, f))).digest('hex'));
  return out;
}

/** The test's own reading of "expired": the column's day (text parsed as a date or timestamp) before the cutoff. */
const dayOf = (col: string) => `COALESCE(TRY_CAST(CAST(${ident(col)} AS VARCHAR) AS DATE), CAST(TRY_CAST(CAST(${ident(col)} AS VARCHAR) AS TIMESTAMP) AS DATE))`;

/** Expired and kept row counts of a dataset folder, and an order-independent fingerprint of its kept rows. */
async function split(root: string, t: RetentionTarget): Promise<{ expired: number; kept: number; keptHash: string }> {
  const fs = (await files(join(root, t.path))).filter((f) => f.endsWith('.parquet')).map((f) => join(root, t.path, f));
  if (!fs.length) return { expired: 0, kept: 0, keptHash: '0' };
  const rel = `read_parquet(${litList(fs)}, union_by_name = true, hive_partitioning = false)`;
  const r = (await engine.all<{ e: unknown; k: unknown; h: unknown }>(`
    SELECT count(*) FILTER (WHERE ${dayOf(t.column)} < DATE ${lit(t.cutoff)}) AS e,
           count(*) FILTER (WHERE NOT coalesce(${dayOf(t.column)} < DATE ${lit(t.cutoff)}, false)) AS k,
           CAST(coalesce(sum(hash(x)::HUGEINT) FILTER (WHERE NOT coalesce(${dayOf(t.column)} < DATE ${lit(t.cutoff)}, false)), 0) AS VARCHAR) AS h
    FROM ${rel} x`))[0]!;
  return { expired: Number(r.e), kept: Number(r.k), keptHash: String(r.h) };
}

async function warehouseSplit(file: string, t: RetentionTarget): Promise<{ expired: number; kept: number; keptHash: string }> {
  await engine.run(`ATTACH ${lit(file)} AS w (READ_ONLY)`);
  try {
    const q = `w.${ident(t.warehouse!.schema)}.${ident(t.warehouse!.table)}`;
    const exp = `coalesce(${dayOf(t.column)} < DATE ${lit(t.cutoff)}, false)`;
    const r = (await engine.all<{ e: unknown; k: unknown; h: unknown }>(`SELECT count(*) FILTER (WHERE ${exp}) AS e, count(*) FILTER (WHERE NOT ${exp}) AS k,
      CAST(coalesce(sum(hash(x)::HUGEINT) FILTER (WHERE NOT ${exp}), 0) AS VARCHAR) AS h FROM ${q} x`))[0]!;
    return { expired: Number(r.e), kept: Number(r.k), keptHash: String(r.h) };
  } finally {
    await engine.run('DETACH w');
  }
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-retention-'));
  const sample = join(home, 'sample');
  await generateSample({ customers: 40, days: 14, seed: 11, out: sample });
  lake = join(home, 'lake');
  const m = await runPipeline({ home, lake: new LocalLake(lake), log: silentLogger, runDate: '2026-10-31', params: { input: sample }, retryIntervalOverride: 0 });
  expect(m.jobs.find((j) => j.status === 'failed')?.error?.message).toBeUndefined();
  engine = await Engine.open();
  before = join(home, 'before');
  await cp(lake, before, { recursive: true });
  await cp(join(home, 'warehouse.duckdb'), join(home, 'warehouse-before.duckdb'));
  killed = cli(['retention', '--home', home, '--as-of', AS_OF, '--json'], { C360_TEST_CRASH_AFTER_OBJECTS: '8' });
  const done = cli(['retention', '--home', home, '--as-of', AS_OF, '--json']);
  expect(done.status, done.stderr).toBe(0);
  const out = JSON.parse(done.stdout.trim().split('\n').at(-1)!) as { out?: string; report?: string };
  const line = out.out ? (JSON.parse(out.out) as { report: string }) : (out as { report: string });
  report = JSON.parse(await readFile(join(lake, line.report), 'utf8')) as RetentionReport;
  afterSecond = await checksums(lake);
  const third = cli(['retention', '--home', home, '--as-of', AS_OF, '--json']);
  expect(third.status, third.stderr).toBe(0);
  const out3 = JSON.parse(third.stdout.trim().split('\n').at(-1)!) as { out?: string; report?: string };
  const line3 = out3.out ? (JSON.parse(out3.out) as { report: string }) : (out3 as { report: string });
  again = JSON.parse(await readFile(join(lake, line3.report), 'utf8')) as RetentionReport;
  afterThird = await checksums(lake);
}, 240_000);

afterAll(async () => {
  engine?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

describe('retention declarations', () => {
  it('every source table says how long its rows are kept, or why they are kept', () => {
    for (const c of ALL_CONTRACTS) expect(RETENTION[c.name], c.name).toBeDefined();
    expect(Object.keys(RETENTION).sort()).toEqual(ALL_CONTRACTS.map((c) => c.name).sort());
  });

  it('catalogue retention names a time column of the dataset and known source tables', () => {
    const declared = CATALOGUE.filter((d) => d.retention);
    expect(declared.length).toBeGreaterThan(3);
    for (const d of declared) {
      const col = d.columns.find((c) => c.name === d.retention!.column);
      expect(col, `${d.name}.${d.retention!.column}`).toBeDefined();
      expect(['date', 'timestamp']).toContain(col!.type.kind);
      for (const f of d.retention!.from) expect(RETENTION[f], `${d.name} from ${f}`).toBeDefined();
    }
  });

  it('the cutoff counts whole months back, clamping to the month end', () => {
    expect(retentionCutoff('2028-11-25', 25)).toBe('2026-10-25');
    expect(retentionCutoff('2024-03-31', 1)).toBe('2024-02-29');
    expect(retentionCutoff('2025-01-15', 12)).toBe('2024-01-15');
    expect(retentionCutoff('2025-01-15', 84)).toBe('2018-01-15');
  });
});

describe('c360 retention on a sample run', () => {
  it('was killed mid-run and continued by the next run', () => {
    expect(killed.signal).toBe('SIGKILL');
    expect(report.resumed).toBe(1);
    expect(existsSync(join(lake, PENDING_DIR, `retention-${AS_OF}.json`))).toBe(false);
  });

  it('removes every row past the period from Bronze, quarantine, Silver and Gold and keeps every other row', async () => {
    const targets = retentionTargets(AS_OF);
    let removedSomewhere = 0;
    let split25 = 0;
    for (const t of targets) {
      const b = await split(before, t);
      const a = await split(lake, t);
      expect(a.expired, `${t.layer} ${t.dataset}: rows before ${t.cutoff} left`).toBe(0);
      expect(a.kept, `${t.layer} ${t.dataset}: rows kept`).toBe(b.kept);
      expect(a.keptHash, `${t.layer} ${t.dataset}: kept rows unchanged`).toBe(b.keptHash);
      const reported = report.datasets.find((d) => d.layer === t.layer && d.dataset === t.dataset)!;
      expect(reported.rowsRemoved, `${t.layer} ${t.dataset}: reported`).toBe(b.expired);
      removedSomewhere += b.expired;
      if (b.expired > 0 && b.kept > 0) split25++;
    }
    // The fixture exercises both sides of a cutoff, not only "all gone" or "nothing to do".
    expect(removedSomewhere).toBeGreaterThan(100);
    expect(split25).toBeGreaterThan(3);
    expect(new Set(targets.map((t) => t.layer))).toEqual(new Set(['bronze', 'quarantine', 'silver', 'gold']));
  });

  it('removes them from the warehouse tables too and writes the Snowflake plan', async () => {
    const targets = retentionTargets(AS_OF).filter((t) => t.warehouse);
    expect(targets.length).toBeGreaterThan(3);
    let removed = 0;
    for (const t of targets) {
      const b = await warehouseSplit(join(home, 'warehouse-before.duckdb'), t);
      const a = await warehouseSplit(join(home, 'warehouse.duckdb'), t);
      const name = `${t.warehouse!.schema}.${t.warehouse!.table}`;
      expect(a.expired, name).toBe(0);
      expect([a.kept, a.keptHash], name).toEqual([b.kept, b.keptHash]);
      expect(report.datasets.find((d) => d.layer === 'warehouse' && d.dataset === name)!.rowsRemoved, name).toBe(b.expired);
      removed += b.expired;
    }
    expect(removed).toBeGreaterThan(0);
    const plan = await readFile(join(lake, report.snowflakePlan.path), 'utf8');
    expect(report.snowflakePlan.statements).toBe(targets.length);
    for (const t of targets) expect(plan).toContain(`DELETE FROM CUSTOMER360.${t.warehouse!.schema}.${t.warehouse!.table} WHERE TO_DATE(${t.column}) < '${t.cutoff}'`);
  });

  it('leaves Silver dataset states naming only files that exist and no expired partition', async () => {
    for (const t of retentionTargets(AS_OF).filter((x) => x.layer === 'silver')) {
      const p = join(lake, t.path, '_state.json');
      if (!existsSync(p)) continue;
      const state = JSON.parse(await readFile(p, 'utf8')) as { partitions: Record<string, string[]> };
      for (const [part, fs] of Object.entries(state.partitions)) {
        if (/^\d{4}-\d{2}-\d{2}$/.test(part)) expect(part >= t.cutoff, `${t.dataset} ${part}`).toBe(true);
        for (const f of fs) expect(existsSync(join(lake, f)), f).toBe(true);
      }
    }
  });

  it('leaves datasets without retention byte-identical', async () => {
    const b = await checksums(before);
    const covered = retentionTargets(AS_OF).map((t) => `${t.path}/`);
    let compared = 0;
    for (const [f, sum] of b) {
      if (covered.some((c) => f.startsWith(c)) || /^bronze\/customer360\/.*\/_state\.json$/.test(f)) continue;
      expect(afterSecond.get(f), f).toBe(sum);
      compared++;
    }
    expect(compared).toBeGreaterThan(50);
  });

  it('a further run changes nothing and reports nothing removed', () => {
    expect(again.objects).toEqual([]);
    expect(again.rowsRemoved).toBe(0);
    expect(again.resumed).toBe(0);
    expect(afterThird).toEqual(afterSecond);
  });

  it('a further run opens no file it judged before; a file changed since is judged again', async () => {
    // The run after the kill opened files to judge them; the next one knew each file's size and earliest day.
    expect(report.filesRead).toBeGreaterThan(10);
    expect(again.filesRead).toBe(0);
    // A Gold file put back as it was before retention (expired rows in it, another size): found and cleaned again.
    const t = retentionTargets(AS_OF).find((x) => x.layer === 'gold' && x.dataset === 'fact_behavioral_events')!;
    const old = (await files(join(before, t.path))).filter((f) => f.endsWith('.parquet'));
    let restored = 0;
    for (const f of old) {
      if (!existsSync(join(lake, t.path, f))) continue;
      await cp(join(before, t.path, f), join(lake, t.path, f));
      restored++;
    }
    expect(restored).toBeGreaterThan(0);
    expect((await split(lake, t)).expired).toBeGreaterThan(0);
    const r = cli(['retention', '--home', home, '--as-of', AS_OF, '--json']);
    expect(r.status, r.stderr).toBe(0);
    const a = await split(lake, t);
    expect(a.expired).toBe(0);
    expect(a.keptHash).toBe((await split(before, t)).keptHash);
  });

  it('the report holds no personal data: counts, paths and dates only', async () => {
    const text = await readFile(join(lake, report.path), 'utf8');
    expect(text).not.toMatch(/@/);
    expect(report.kept.map((k) => k.table)).toContain('CUSTOMERS');
    expect((await files(join(lake, RETENTION_AUDIT_DIR))).length).toBeGreaterThanOrEqual(3);
  });
});
