// Audiences as files: validation errors that name the file, line and column; the filter language (ranks, NULLs,
// quoting); membership evaluated each run with entered/exited events committed once across re-runs and crashes,
// cadences, removed audiences, the membership history and its warehouse tables.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE_COLUMNS } from '../src/activation/audience-columns.ts';
import { loadAudiences, parseAudience, type Audience } from '../src/activation/audience-file.ts';
import { audienceEvents, audienceMembership, isDue, runAudiences } from '../src/activation/audiences.ts';
import { compileFilter } from '../src/activation/filter.ts';
import { committedBatches } from '../src/activation/profile-changes.ts';
import { Engine, lit } from '../src/engine/duckdb.ts';
import { goldDir } from '../src/gold/paths.ts';
import { customerSegments, riskScores } from '../src/intelligence/datasets.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import type { Lake } from '../src/lake/lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { loadWarehouse } from '../src/warehouse/duckdb-loader.ts';
import { getTable } from '../src/warehouse/model.ts';
import { writeProfile, writeRows, type ProfileRow } from './fixtures/profile-fixture.ts';
import { goldAudiencesJob } from '../jobs/gold-audiences.ts';

const err = (text: string, file = 'audiences/x.yaml'): string => {
  try {
    parseAudience(text, file);
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected an error');
};

describe('audience files', () => {
  it('an unknown column in the filter names the file, line and column, and the likely column', () => {
    const text = 'name: at-risk\nfilter: CHURN_RISK > 0.7 AND CHURN_RSK < 2\ndestinations: []\n';
    expect(err(text)).toBe('audiences/x.yaml:2:30: filter: unknown column CHURN_RSK (did you mean CHURN_RISK?)');
  });

  it('positions point into quoted and block filters', () => {
    expect(err('name: a\nfilter: "TOTAL_ORDERS > 3 AND FOO = 1"\n')).toMatch(/^audiences\/x\.yaml:2:31: filter: unknown column FOO/);
    const block = 'name: a\nfilter: >\n  TOTAL_ORDERS > 3\n  AND (RFM_SEGMENT = \'Champions\'\n       OR LOYALTY_TIER = 5)\n';
    expect(err(block)).toBe('audiences/x.yaml:5:24: filter: cannot compare a text with a number');
  });

  it('bad syntax, YAML errors, unknown keys, bad values and marketing without consent fail where they are', () => {
    expect(err('name: a\nfilter: TOTAL_ORDERS > AND CONSENT_EMAIL\n')).toBe('audiences/x.yaml:2:24: filter: expected a column or a value, found the keyword AND');
    expect(err("name: a\nfilter: FIRST_NAME = 'Ann\n")).toBe('audiences/x.yaml:2:22: filter: unterminated text: a quote opened here is never closed');
    expect(err('name: a\nfilter: (TOTAL_ORDERS > 1\n')).toMatch(/^audiences\/x\.yaml:2:26: filter: expected '\)', found the end of the filter/);
    expect(err('name: a\nfilter: TOTAL_ORDERS\n')).toMatch(/^audiences\/x\.yaml:2:9: filter: this is a number value, not a condition/);
    expect(err('name: a\nfilter: [unclosed\n')).toMatch(/^audiences\/x\.yaml:\d+:\d+: not valid YAML/);
    expect(err('name: a\nfiltr: CONSENT_EMAIL\n')).toBe("audiences/x.yaml:2:1: unknown key 'filtr' in the audience (did you mean 'filter'?); allowed: name, description, filter, cadence, attributes, destinations, triggers");
    expect(err('name: a\nfilter: CONSENT_EMAIL\ncadence: hourly\n')).toBe("audiences/x.yaml:3:10: cadence must be one of every-run, daily, weekly, monthly; got 'hourly'");
    expect(err('name: a\nfilter: CONSENT_EMAIL\nattributes: [FIRST_NAME, EMAIL]\n')).toMatch(/^audiences\/x\.yaml:3:26: attributes: unknown column EMAIL/);
    expect(err('name: a\nfilter: CONSENT_EMAIL\ndestinations:\n  - type: file\n    format: csv\n')).toMatch(/^audiences\/x\.yaml:4:5: a marketing destination needs 'consent: <email\|sms\|phone\|push\|personalization>'/);
    expect(err('name: a\nfilter: CONSENT_EMAIL\ndestinations:\n  - type: webhook\n    url: http://x\n    purpose: service\n    secret: s3cr3t\n')).toMatch(/^audiences\/x\.yaml:7:13: a webhook needs 'secret: env:VARIABLE'/);
    expect(err('name: Bad Name\nfilter: CONSENT_EMAIL\n')).toMatch(/^audiences\/x\.yaml:1:7: name 'Bad Name' must be lower-case/);
  });

  it('a folder with two audiences of the same name is refused; the repository examples are valid', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'c360-aud-'));
    await writeFile(join(dir, 'a.yaml'), 'name: same\nfilter: CONSENT_EMAIL\n');
    await writeFile(join(dir, 'b.json'), '{"name": "same", "filter": "CONSENT_SMS"}');
    await expect(loadAudiences(dir)).rejects.toThrow(/b\.json: audience name 'same' is also used by .*a\.yaml/);
    await rm(dir, { recursive: true, force: true });
    expect(await loadAudiences(join(dir, 'gone'))).toBeUndefined();
    const examples = (await loadAudiences(join(import.meta.dirname, '..', 'audiences')))!;
    expect(examples.map((a) => a.name)).toEqual(['champions', 'high-value-churn-risk']);
    expect(examples.every((a) => a.destinations.every((d) => d.purpose !== 'marketing' || d.consent))).toBe(true);
  });

  it('renders quoted SQL: a text literal cannot break out, NULL comparisons are not membership', () => {
    const f = compileFilter("FIRST_NAME = 'x'' OR 1=1 --' OR LOYALTY_TIER IN ('GOLD', 'SILVER') AND NOT TOTAL_ORDERS BETWEEN 1 AND 3", AUDIENCE_COLUMNS);
    expect(f.sql).toBe(`COALESCE(("FIRST_NAME" = 'x'' OR 1=1 --') OR ("LOYALTY_TIER" IN ('GOLD', 'SILVER') AND NOT ("TOTAL_ORDERS" BETWEEN 1 AND 3)), FALSE)`);
    expect(f.columns).toEqual(['FIRST_NAME', 'LOYALTY_TIER', 'TOTAL_ORDERS']);
  });

  it('cadences: every run, daily, weekly, monthly; a changed filter is due at once', () => {
    const last = { asOf: '2026-03-10', filter: 'F' };
    expect(isDue('every-run', last, 'F', '2026-03-10')).toBe(true);
    expect(isDue('daily', last, 'F', '2026-03-10')).toBe(false);
    expect(isDue('daily', last, 'F', '2026-03-11')).toBe(true);
    expect(isDue('weekly', last, 'F', '2026-03-16')).toBe(false);
    expect(isDue('weekly', last, 'F', '2026-03-17')).toBe(true);
    expect(isDue('monthly', last, 'F', '2026-04-09')).toBe(false);
    expect(isDue('monthly', last, 'F', '2026-04-10')).toBe(true);
    expect(isDue('weekly', last, 'G', '2026-03-11')).toBe(true);
  });
});

describe('audience membership', () => {
  let home: string;
  let lake: LocalLake;
  let engine: Engine;
  const audiences = (extra = ''): Audience[] => [
    parseAudience(`name: vip\nfilter: decile(PREDICTED_CLV) = 10 AND CONSENT_EMAIL\ncadence: every-run\n${extra}`, 'vip.yaml'),
    parseAudience("name: at-risk\nfilter: CHURN_RISK > 0.7 OR SEGMENT_LABEL = 'Lapsed'\n", 'at-risk.yaml'),
  ];
  const people = (n: number, f: (i: number) => ProfileRow = () => ({})): ProfileRow[] =>
    Array.from({ length: n }, (_, i) => ({ CUSTOMER360_ID: `C${String(i).padStart(2, '0')}`, CONSENT_EMAIL: i % 4 !== 0, ...f(i) }));
  const scores = (n: number, churn: (i: number) => number) =>
    Array.from({ length: n }, (_, i) => ({ CUSTOMER360_ID: `C${String(i).padStart(2, '0')}`, PREDICTED_CLV: i * 10, CHURN_RISK: churn(i) }));

  async function day(asOf: string, n: number, churn: (i: number) => number, lapsed: number[] = [], list = audiences(), l: Lake = lake) {
    await writeProfile(engine, lake, home, asOf, people(n));
    await writeRows(engine, lake, home, riskScores, asOf, scores(n, churn));
    await writeRows(engine, lake, home, customerSegments, asOf, lapsed.map((i) => ({ CUSTOMER360_ID: `C${String(i).padStart(2, '0')}`, SEGMENT_LABEL: 'Lapsed' })));
    const ctx = makeJobContext({ home, lake: l, log: silentLogger, runId: `run-${asOf}`, loadId: 'l', runDate: asOf, asOf, params: {} });
    return runAudiences(ctx, engine, list, { asOf });
  }
  async function events(): Promise<{ BATCH: string; AUDIENCE: string; CUSTOMER360_ID: string; EVENT_TYPE: string; EVENT_ID: string }[]> {
    const files = await Promise.all((await committedBatches(lake, audienceEvents.path)).map((b) => lake.localPath(b.path)));
    return engine.all(`SELECT * FROM read_parquet([${files.map(lit).join(', ')}]) ORDER BY BATCH, AUDIENCE, CUSTOMER360_ID`);
  }

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), 'c360-aud-'));
    lake = new LocalLake(join(home, 'lake'));
    engine = await Engine.open();
  });
  afterAll(async () => {
    engine?.close();
    await rm(home, { recursive: true, force: true });
  });

  it('first run: everyone matching enters; the top decile is ranked over everyone; NULL scores are not members', async () => {
    const r = await day('2026-03-01', 20, (i) => (i >= 18 ? 0.9 : 0.1));
    // decile 10 of PREDICTED_CLV 0..190 = C18, C19; both have e-mail consent.
    expect(r.counts).toEqual({ 'at-risk': { members: 2, entered: 2, exited: 0, triggered: 0 }, vip: { members: 2, entered: 2, exited: 0, triggered: 0 } });
    expect((await events()).map((e) => `${e.EVENT_ID}:${e.EVENT_TYPE}`)).toEqual([
      'ae-1-at-risk-C18:entered', 'ae-1-at-risk-C19:entered', 'ae-1-vip-C18:entered', 'ae-1-vip-C19:entered',
    ]);
  });

  it('a repeated run commits an empty batch', async () => {
    const r = await day('2026-03-01', 20, (i) => (i >= 18 ? 0.9 : 0.1));
    expect(r.batch).toBe(2);
    expect(Object.values(r.counts).map((c) => c.entered + c.exited)).toEqual([0, 0]);
    expect((await events()).length).toBe(4);
  });

  it('changes enter and exit people; a crash before the commit re-runs to the same events once', async () => {
    const failing: Lake = Object.create(lake, {
      putFile: { value: async (local: string, path: string) => { if (path.startsWith(audienceEvents.path)) throw new Error('killed'); return lake.putFile(local, path); } },
    });
    // C19 is no longer at risk, C05 now is (segment Lapsed); 30 people: decile 10 is C27..C29, C28 without consent.
    const churn = (i: number) => (i === 18 ? 0.9 : 0.1);
    await expect(day('2026-03-02', 30, churn, [5], audiences(), failing)).rejects.toThrow('killed');
    expect((await committedBatches(lake, audienceEvents.path)).at(-1)!.batch).toBe(2);
    const r = await day('2026-03-02', 30, churn, [5]);
    expect(r.batch).toBe(3);
    const now = (await events()).filter((e) => e.BATCH === '3').map((e) => `${e.AUDIENCE}:${e.CUSTOMER360_ID}:${e.EVENT_TYPE}`);
    expect(now).toEqual(['at-risk:C05:entered', 'at-risk:C19:exited', 'vip:C18:exited', 'vip:C19:exited', 'vip:C27:entered', 'vip:C29:entered']);
    const all = await events();
    expect(new Set(all.map((e) => e.EVENT_ID)).size).toBe(all.length);
  });

  it('membership history: one row per stay, current members flagged', async () => {
    const f = await lake.localPath(`${goldDir(audienceMembership.name, '2026-03-02')}/part-00000.parquet`);
    const rows = await engine.all<{ k: string }>(
      `SELECT AUDIENCE || ':' || CUSTOMER360_ID || ':' || ENTERED_BATCH || '-' || COALESCE(CAST(EXITED_BATCH AS VARCHAR), '') || ':' || IS_MEMBER AS k FROM read_parquet(${lit(f)}) ORDER BY ALL`,
    );
    expect(rows.map((r) => r.k)).toEqual([
      'at-risk:C05:3-:true', 'at-risk:C18:1-:true', 'at-risk:C19:1-3:false',
      'vip:C18:1-3:false', 'vip:C19:1-3:false', 'vip:C27:3-:true', 'vip:C29:3-:true',
    ]);
  });

  it('an audience not due keeps its members; a removed audience exits them all; the warehouse gets both tables once', async () => {
    const weekly = [parseAudience('name: vip\nfilter: decile(PREDICTED_CLV) = 10 AND CONSENT_EMAIL\ncadence: weekly\n', 'vip.yaml')];
    // The filter is unchanged, but weekly: evaluated on 2026-03-02 (every-run then), so not due on 03-03.
    const r = await day('2026-03-03', 30, () => 0.1, [], weekly);
    expect(r.evaluated).toEqual([]);
    expect(r.skipped).toEqual(['vip']);
    expect(r.removed).toEqual(['at-risk']);
    expect(r.counts['at-risk']).toEqual({ members: 0, entered: 0, exited: 2, triggered: 0 });
    expect(r.counts.vip).toBeUndefined();
    const wh = await Engine.open({ path: join(home, 'wh.duckdb') });
    try {
      const tables = [getTable('CUSTOMER_360', 'AUDIENCE_EVENTS'), getTable('CUSTOMER_360', 'AUDIENCE_MEMBERSHIP')];
      for (const asOf of ['2026-03-01', '2026-03-02', '2026-03-03', '2026-03-03']) await loadWarehouse(wh, lake, { asOf, loadId: `L${asOf}`, tables });
      expect(Number(await wh.scalar('SELECT count(*) FROM CUSTOMER_360.AUDIENCE_EVENTS'))).toBe((await events()).length);
      expect(await wh.all('SELECT AUDIENCE, count(*) FILTER (WHERE IS_MEMBER) AS members, count(*) AS stays FROM CUSTOMER_360.AUDIENCE_MEMBERSHIP GROUP BY 1 ORDER BY 1')).toEqual([
        { AUDIENCE: 'at-risk', members: '0', stays: '3' }, { AUDIENCE: 'vip', members: '2', stays: '4' },
      ]);
    } finally {
      wh.close();
    }
  });

  it('the job reads the audiences folder and fails naming a bad file', async () => {
    const dir = join(home, 'aud');
    await rm(dir, { recursive: true, force: true });
    await (await import('node:fs/promises')).mkdir(dir);
    await writeFile(join(dir, 'bad.yaml'), 'name: bad\nfilter: CHURN_RISK >> 1\n');
    const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'j', loadId: 'j', runDate: '2026-03-03', asOf: '2026-03-03', params: { audiences: dir } });
    await expect(goldAudiencesJob.run(ctx)).rejects.toThrow(/bad\.yaml:2:21: filter: expected a column, a value or '\(', found '>'/);
  });
});
