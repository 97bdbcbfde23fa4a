// The catalogue: declarations agree with what the SQL computes (names, order and types, on empty inputs), the
// runner shapes an output to its declaration or names what differs, activity dependencies come from dataset inputs,
// and docs/datasets.md is generated from it.
import { readFile } from 'node:fs/promises';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MASTER } from '../pipelines/master.ts';
import { duckType } from '../src/catalogue/dataset.ts';
import { renderDatasetsMarkdown } from '../src/catalogue/docs.ts';
import { CATALOGUE, GOLD_SQL_DATASETS, getDataset, upstreamJobs } from '../src/catalogue/index.ts';
import { conformSql, datasetFile } from '../src/catalogue/runner.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { registerAggregates } from '../src/gold/daily-aggregates.ts';
import { registerLifetime } from '../src/gold/lifetime.ts';
import { consentLifetime } from '../src/privacy/consent.ts';
import { registerRecommendationHistory, registerRecommendationInputs } from '../src/gold/intelligence-inputs.ts';
import { SHARED_RELATIONS } from '../src/gold/relations.ts';
import { registerSilverInputs } from '../src/gold/silver-inputs.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { WAREHOUSE_TABLES } from '../src/warehouse/model.ts';

let home: string;
let e: Engine;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-cat-'));
  e = await Engine.open();
  const lake = new LocalLake(join(home, 'lake'));
  await registerSilverInputs(e, lake, '2026-03-31');
  await registerRecommendationInputs(e, lake, '2026-03-31');
  await registerRecommendationHistory(e, lake, []);
  await registerAggregates(e, lake, '2026-03-31', GOLD_SQL_DATASETS.map((d) => d.sql!({ asOf: '2026-03-31', attributionWindowDays: 7 })));
  await registerLifetime(e, lake, consentLifetime, '2026-03-31', 'g_consent_lifetime');
  for (const [name, sql] of Object.entries(SHARED_RELATIONS)) await e.run(`CREATE TEMP TABLE g_${name} AS ${sql}`);
});
afterAll(async () => {
  e.close();
  await rm(home, { recursive: true, force: true });
});

describe('declarations', () => {
  it('every Gold SQL dataset computes exactly its declared columns, in order, with the declared types', async () => {
    const p = { asOf: '2026-03-31', attributionWindowDays: 7 };
    for (const ds of GOLD_SQL_DATASETS) {
      const sql = ds.sql!(p);
      if (ds.keep) await e.run(`CREATE OR REPLACE TEMP TABLE g_${ds.name} AS ${sql}`);
      const got = (await e.all<{ column_name: string; column_type: string }>(`DESCRIBE (${sql})`)).map((r) => `${r.column_name} ${r.column_type}`);
      expect(got, ds.name).toEqual(ds.columns.map((c) => `${c.name} ${duckType(c.type)}`));
    }
  });

  it('a SQL dataset\'s inputs are read off its SQL', () => {
    expect(getDataset('customer_profile').inputs).toEqual(expect.arrayContaining(['customers', 'customer_daily', 'customer_lifetime', 'customer_touchpoint_lifetime', 'identity_crosswalk', 'external_customer_profiles']));
    expect(getDataset('customer_lifetime').inputs).toEqual(['customer_daily']);
    expect(getDataset('customer_daily').inputs).toEqual(expect.arrayContaining(['customer_behavioral_events', 'customer_transactions', 'external_customer_sentiment']));
    expect(getDataset('dim_touchpoint').inputs).toEqual(['customer_daily', 'customer_touchpoint_daily']);
    expect(getDataset('customer_touchpoint_daily').inputs).toEqual(['customer_behavioral_events', 'customer_engagement_events', 'customer_service_interactions', 'customer_transactions']);
    expect(upstreamJobs('gold-customer')).toContain('gold-daily');
    expect(getDataset('campaign_roi').inputs).toEqual(expect.arrayContaining(['campaign_attribution', 'marketing_campaigns']));
    expect(getDataset('dim_recommendation').inputs).toEqual(['model_registry', 'product_recommendations']);
    expect(getDataset('dim_time').inputs).toEqual([]);
  });

  it('the warehouse tables are the datasets with a warehouse mapping, with their columns and keys', () => {
    const mapped = CATALOGUE.filter((d) => d.warehouse);
    expect(WAREHOUSE_TABLES.map((t) => t.source).sort()).toEqual(mapped.map((d) => d.name).sort());
    for (const t of WAREHOUSE_TABLES) {
      const d = getDataset(t.source);
      expect(t.columns.map((c) => c.name), t.name).toEqual(d.columns.map((c) => c.name));
      expect(t.primaryKey).toEqual(d.primaryKey);
    }
    expect(WAREHOUSE_TABLES.find((t) => t.name === 'DIM_CUSTOMER')?.columns.find((c) => c.name === 'EMAIL_ADDRESS')?.pii).toBe('email');
  });
});

describe('runner', () => {
  const ds = getDataset('dim_time');

  it('passes a query that already has the declared shape through unchanged', async () => {
    const q = ds.sql!({ asOf: '2026-01-01', attributionWindowDays: 7 });
    expect(await conformSql(e, ds, q)).toBe(q);
  });

  it('reorders and casts to the declaration', async () => {
    const shaped = await conformSql(e, ds, `SELECT 'NIGHT' AS DAY_PART, 1::BIGINT AS MINUTE, 0::BIGINT AS HOUR, 1 AS TIME_KEY`);
    expect(await e.all(`DESCRIBE (${shaped})`).then((r) => r.map((x) => `${x.column_name} ${x.column_type}`))).toEqual(['TIME_KEY INTEGER', 'HOUR INTEGER', 'MINUTE INTEGER', 'DAY_PART VARCHAR']);
  });

  it('names missing and undeclared columns', async () => {
    await expect(conformSql(e, ds, `SELECT 1 AS TIME_KEY, 2 AS HOUR, 'x' AS DAYPART, 3 AS MINUTE`)).rejects.toThrow(/dim_time: .*missing: DAY_PART; not declared: DAYPART/);
  });

  it('puts snapshots under their as-of date, parts in their own file, Silver in its folder', () => {
    expect(datasetFile(ds, { asOf: '2026-01-02' }).path).toBe('gold/customer360/dim_time/as_of_date=2026-01-02/part-00000.parquet');
    expect(datasetFile(getDataset('model_registry'), { asOf: '2026-01-02', part: 'segments' }).path).toBe('gold/customer360/model_registry/as_of_date=2026-01-02/segments.parquet');
    expect(() => datasetFile(getDataset('model_registry'), { asOf: '2026-01-02', part: 'nope' })).toThrow(/parts/);
    expect(datasetFile(getDataset('identity_crosswalk')).path).toBe('silver/customer360/identity/crosswalk/part-0.parquet');
    expect(() => datasetFile(ds)).toThrow(/as-of date/);
  });
});

describe('pipeline dependencies', () => {
  it('come from the datasets each job reads and writes, never by hand', () => {
    for (const stage of MASTER.stages) {
      for (const a of stage.activities) {
        const derived = stage.activities.filter((b) => b !== a && upstreamJobs(a.job.name).includes(b.job.name)).map((b) => b.name);
        expect([...(a.dependsOn ?? [])].sort(), a.name).toEqual(derived.sort());
      }
    }
    const gold = MASTER.stages.find((s) => s.name === 'gold_aggregation')!;
    expect(gold.activities.find((a) => a.name === 'gold_personalization')?.dependsOn).toEqual(
      expect.arrayContaining(['intelligence_recommendations', 'intelligence_scores', 'intelligence_segments']),
    );
    const silver = MASTER.stages.find((s) => s.name === 'silver_processing')!;
    expect(silver.activities.find((a) => a.name === 'silver_publish')?.dependsOn).toEqual(['silver_standardise', 'silver_identity']);
  });
});

describe('docs', () => {
  it('docs/datasets.md is generated from the catalogue (run `c360 docs` when this fails)', async () => {
    const committed = await readFile(join(import.meta.dirname, '..', 'docs', 'datasets.md'), 'utf8');
    expect(committed === renderDatasetsMarkdown()).toBe(true);
    expect(renderDatasetsMarkdown()).toContain('### customer_profile');
  });
});
