// The Silver sub-pipeline on a tiny Bronze fixture: standardise -> identity -> publish, twice.
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silverProcessing } from '../pipelines/silver.ts';
import { Engine } from '../src/engine/duckdb.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { runPipeline } from '../src/orchestrator/local-runner.ts';
import { datasetDataFiles, readDatasetState } from '../src/catalogue/partitioned.ts';
import { createLogger } from '../src/runtime/logger.ts';
import type { RunManifest } from '../src/runtime/manifest.ts';

let home: string;
let lake: LocalLake;
let engine: Engine;
const meta = (load: string, at: string, hash: string, source = 'CRM') =>
  `'${load}' AS _load_id, TIMESTAMP '${at}' AS _ingested_at, '${source}' AS _source_system, 'fixture' AS _source_file, '${hash}' AS _record_hash, 1 AS _schema_version`;

async function bronze(dir: string, file: string, select: string) {
  const path = join(home, 'lake', 'bronze', 'customer360', dir, 'ingest_date=2026-10-01');
  await mkdir(path, { recursive: true });
  await engine.run(`COPY (${select}) TO '${join(path, file)}' (FORMAT parquet)`);
}

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-silver-'));
  lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
  const cust = (id: string, first: string, last: string, email: string | null, phone: string | null, dob: string | null, source: string, load: string, at: string, hash: string) =>
    `SELECT '${id}' AS CUSTOMER_ID, '${first}' AS FIRST_NAME, '${last}' AS LAST_NAME, ${email ? `'${email}'` : 'NULL'} AS EMAIL_ADDRESS,
      ${phone ? `'${phone}'` : 'NULL'} AS PHONE_NUMBER, ${dob ? `DATE '${dob}'` : 'NULL::DATE'} AS DATE_OF_BIRTH, 'gold' AS LOYALTY_TIER, 'US' AS COUNTRY_CODE,
      '12 Main Street' AS ADDRESS_LINE_1, 'Boston' AS CITY, '02139' AS ZIP_CODE, ${meta(load, at, hash, source)}`;
  await bronze('customers', 'a.parquet', [
    cust('CRM-1', 'Robert', 'Smith', 'Rob.Smith@Gmail.com', '(617) 555-0134', '1971-06-24', 'CRM', 'L1', '2026-10-01 00:00:00', 'h1'),
    // The same key ingested later with a corrected name: the later row wins.
    cust('CRM-1', 'Robert', 'Smith', 'rob.smith@gmail.com', '(617) 555-0134', '1971-06-24', 'CRM', 'L2', '2026-10-02 00:00:00', 'h2'),
    cust('ECM-7', 'Bob', 'Smith', 'robsmith+shop@gmail.com', '+1 617 555 0134', '1971-06-24', 'ECOMMERCE', 'L1', '2026-10-01 00:00:00', 'h3'),
    cust('POS-3', 'Alice', 'Jones', 'test@test.com', '555-555-5555', '1990-02-03', 'POS', 'L1', '2026-10-01 00:00:00', 'h4'),
  ].join(' UNION ALL '));
  await bronze('campaigns', 'c.parquet', `SELECT 'CMP-001' AS CAMPAIGN_ID, 'Spring' AS CAMPAIGN_NAME, DATE '2026-09-01' AS START_DATE, DATE '2026-08-01' AS END_DATE, ${meta('L1', '2026-10-01 00:00:00', 'c1', 'Marketing_Automation')}`);
  await bronze('sessions', 's.parquet', `SELECT 'S1' AS SESSION_ID, 'CRM-1' AS CUSTOMER_ID, TIMESTAMP '2026-09-10 10:00:00' AS SESSION_START, TIMESTAMP '2026-09-10 10:30:00' AS SESSION_END,
    1800 AS SESSION_DURATION, ' cmp_001 ' AS CAMPAIGN_ID, ${meta('L1', '2026-10-01 00:00:00', 's1', 'Digital_Analytics')}`);
  await bronze('behavioral', 'e.parquet', `SELECT * FROM (VALUES
      ('E1', 'CRM-1', 'S1', TIMESTAMP '2026-09-10 10:05:00', 'page_view'),
      ('E2', 'CRM-1', 'S1', TIMESTAMP '2026-09-11 09:00:00', 'CLICK'),
      ('E3', 'CRM-1', 'S9', TIMESTAMP '2026-09-10 10:06:00', 'CLICK')
    ) t(EVENT_ID, CUSTOMER_ID, SESSION_ID, EVENT_DATE, EVENT_TYPE), (SELECT ${meta('L1', '2026-10-01 00:00:00', 'e', 'Digital_Analytics')})`);
  await bronze('engagement', 'g.parquet', `SELECT * FROM (VALUES
      ('G1', 'CRM-1', 'CMP-001', 'EMAIL', 'SENT', TIMESTAMP '2026-09-02 08:00:00'),
      ('G2', 'CRM-1', 'CMP-001', 'EMAIL', 'OPENED', TIMESTAMP '2026-09-01 08:00:00'),
      ('G3', 'NOBODY', 'CMP-001', 'EMAIL', 'SENT', TIMESTAMP '2026-09-02 08:00:00')
    ) t(ENGAGEMENT_ID, CUSTOMER_ID, CAMPAIGN_ID, ENGAGEMENT_TYPE, ENGAGEMENT_ACTION, ENGAGEMENT_DATE), (SELECT ${meta('L1', '2026-10-01 00:00:00', 'g', 'Marketing_Automation')})`);
  await bronze('tickets', 't.parquet', `SELECT * FROM (VALUES
      ('T1', 'ECM-7', 'RESOLVED', TIMESTAMP '2026-09-05 10:00:00', TIMESTAMP '2026-09-05 12:00:00', 120),
      ('T2', 'ECM-7', 'RESOLVED', TIMESTAMP '2026-09-05 10:00:00', TIMESTAMP '2026-09-05 12:00:00', 30)
    ) t(TICKET_ID, CUSTOMER_ID, TICKET_STATUS, CREATION_DATE, RESOLUTION_DATE, TOTAL_RESOLUTION_TIME), (SELECT ${meta('L1', '2026-10-01 00:00:00', 't', 'Support_Systems')})`);
});
afterAll(async () => {
  engine.close();
  await rm(home, { recursive: true, force: true });
});

const pipeline = { name: 'silver_only', description: 'Silver only', parameters: [], stages: [silverProcessing] };
// A Silver table is the files its state names (event tables are partitioned by event date).
const silver = async (dir: string) => {
  const files = await datasetDataFiles(new LocalLake(join(home, 'lake')), `silver/customer360/${dir}`);
  return engine.all<Record<string, unknown>>(`SELECT * FROM read_parquet([${files.map((f) => `'${join(home, 'lake', f)}'`).join(', ')}], union_by_name = true, hive_partitioning = false)`);
};
const metricsOf = (m: RunManifest, name: string) => m.jobs.find((j) => name in j.metrics)?.metrics[name] as Record<string, unknown>;

describe('Silver sub-pipeline', () => {
  let first: RunManifest;
  let ids: Record<string, string>;

  it('runs standardise, identity and publish for the 12 source tables and the 2 collected ones', async () => {
    first = await runPipeline({ home, lake, log: createLogger({ silent: true }), pipeline, runDate: '2026-10-03', runId: 'run-1' });
    expect(first.status, JSON.stringify(first.jobs.find((j) => j.status === 'failed')?.error)).toBe('succeeded');
    expect(first.jobs.filter((j) => j.job === 'silver-publish')).toHaveLength(14);
    for (const dir of ['customers', 'items', 'external/profiles', 'external/sentiment', 'identity/crosswalk', 'identity/match_ledger', 'identity/clusters']) {
      expect((await lake.list(`silver/customer360/${dir}/`)).length, dir).toBeGreaterThan(0);
    }
  });

  it('customers: deduplicated by key (latest ingest wins), standardised beside the originals, resolved and scored', async () => {
    const rows = await silver('customers');
    expect(rows).toHaveLength(3);
    const crm = rows.find((r) => r.CUSTOMER_ID === 'CRM-1')!;
    expect(crm._bronze_load_id).toBe('L2');
    expect(crm.EMAIL_ADDRESS).toBe('rob.smith@gmail.com');
    expect(crm.EMAIL_MATCH_KEY).toBe('robsmith@gmail.com');
    expect(crm.PHONE_E164).toBe('+16175550134');
    expect(crm.LOYALTY_TIER).toBe('GOLD');
    expect(crm.ADDRESS_STD).toBe('12 main st');
    const ecm = rows.find((r) => r.CUSTOMER_ID === 'ECM-7')!;
    expect(ecm.CUSTOMER360_ID).toBe(crm.CUSTOMER360_ID);
    expect(ecm._near_duplicate).toBe(true);
    const pos = rows.find((r) => r.CUSTOMER_ID === 'POS-3')!;
    expect(pos.CUSTOMER360_ID).not.toBe(crm.CUSTOMER360_ID);
    expect(pos.EMAIL_IS_PLACEHOLDER).toBe(true);
    expect(pos._dq_flags).toEqual(expect.arrayContaining(['EMAIL_ADDRESS:PLACEHOLDER', 'PHONE_NUMBER:PLACEHOLDER']));
    expect(Number(pos._quality_score)).toBeLessThan(Number(crm._quality_score));
    ids = Object.fromEntries(rows.map((r) => [String(r.CUSTOMER_ID), String(r.CUSTOMER360_ID)]));
  });

  it('cross-table checks flag rows, keep them and lower their score', async () => {
    const events = await silver('behavioral');
    expect(events).toHaveLength(3);
    const flags = Object.fromEntries(events.map((e) => [String(e.EVENT_ID), e._dq_flags as string[]]));
    expect(flags.E1).toEqual([]);
    expect(flags.E2).toContain('EVENT_DATE:OUTSIDE_SESSION');
    expect(flags.E3).toContain('SESSION_ID:UNKNOWN_SESSION');
    expect(events.find((e) => e.EVENT_ID === 'E1')!.EVENT_TYPE).toBe('PAGE_VIEW');
    expect(events.every((e) => e.CUSTOMER360_ID === ids['CRM-1'])).toBe(true);

    const sessions = await silver('sessions');
    expect(sessions[0]!.CAMPAIGN_ID).toBe('CMP-001'); // ' cmp_001 ' standardised, and found among the campaigns
    expect(sessions[0]!._dq_flags).toEqual([]);

    const engagement = Object.fromEntries((await silver('engagement')).map((e) => [String(e.ENGAGEMENT_ID), e]));
    expect(engagement.G2!._dq_flags).toContain('ENGAGEMENT_ACTION:FUNNEL_ORDER');
    expect(engagement.G1!._dq_flags).toEqual([]);
    expect(engagement.G3!._dq_flags).toContain('CUSTOMER_ID:UNKNOWN_CUSTOMER');
    expect(engagement.G3!.CUSTOMER360_ID).toBeNull();

    const tickets = Object.fromEntries((await silver('tickets')).map((t) => [String(t.TICKET_ID), t]));
    expect(tickets.T1!._dq_flags).toEqual([]);
    expect(tickets.T2!._dq_flags).toContain('TOTAL_RESOLUTION_TIME:MISMATCH');
    expect(Number(tickets.T2!._quality_score)).toBeLessThan(Number(tickets.T1!._quality_score));

    const campaigns = await silver('campaigns');
    expect(campaigns[0]!._dq_flags).toContain('END_DATE:BEFORE_START');
  });

  it('reports quality metrics per table and identity churn in the manifest', () => {
    const q = metricsOf(first, 'CUSTOMER_BEHAVIORAL_EVENTS.quality');
    expect(q).toMatchObject({ rows: 3, flaggedRows: 2 });
    expect((q.flags as Record<string, number>)['SESSION_ID:UNKNOWN_SESSION']).toBe(1);
    expect(metricsOf(first, 'CUSTOMERS.standardise')).toMatchObject({ bronzeRows: 4, duplicateKeyRows: 1, stagedRows: 3 });
    expect(metricsOf(first, 'identity')).toMatchObject({ mode: 'full', graphRecords: 3, customer360Ids: 2 });
  });

  it('a re-run on unchanged Bronze changes no id', async () => {
    const again = await runPipeline({ home, lake, log: createLogger({ silent: true }), pipeline, runDate: '2026-10-03', runId: 'run-2' });
    expect(again.status).toBe('succeeded');
    // Nothing staged changed: the identity graph is not even opened.
    expect(metricsOf(again, 'identity')).toMatchObject({ mode: 'unchanged', batch: 0 });
    const rows = await silver('customers');
    expect(Object.fromEntries(rows.map((r) => [String(r.CUSTOMER_ID), String(r.CUSTOMER360_ID)]))).toEqual(ids);
  });

  it('an overrides file in the lake splits a wrong merge; one part keeps the id, the other gets a new one', async () => {
    await lake.write('config/identity_overrides.csv', 'KIND,SOURCE_SYSTEM_L,CUSTOMER_ID_L,SOURCE_SYSTEM_R,CUSTOMER_ID_R\nnever_match,CRM,CRM-1,ECOMMERCE,ECM-7\n');
    const split = await runPipeline({ home, lake, log: createLogger({ silent: true }), pipeline, runDate: '2026-10-03', runId: 'run-3' });
    expect(split.status).toBe('succeeded');
    // The changed override re-clusters the person it names (no customer changed): one split event.
    expect(metricsOf(split, 'identity')).toMatchObject({ mode: 'incremental', newRecords: 0, changedRecords: 0, events: { split: 1 } });
    const rows = Object.fromEntries((await silver('customers')).map((r) => [String(r.CUSTOMER_ID), String(r.CUSTOMER360_ID)]));
    expect(rows['CRM-1']).not.toBe(rows['ECM-7']);
    expect([rows['CRM-1'], rows['ECM-7']]).toContain(ids['CRM-1']);
    expect(rows['POS-3']).toBe(ids['POS-3']);
    const ledger = await silver('identity/match_ledger');
    expect(ledger.some((l) => l.DECISION === 'REFUSED:NEVER_MATCH')).toBe(true);
  });

  it("a new engagement re-checks its customer's rows of that campaign only, and rewrites only partitions whose rows changed", async () => {
    const engagement = (file: string, id: string, campaign: string, action: string, at: string) =>
      bronze('engagement', file, `SELECT '${id}' AS ENGAGEMENT_ID, 'CRM-1' AS CUSTOMER_ID, '${campaign}' AS CAMPAIGN_ID, 'EMAIL' AS ENGAGEMENT_TYPE,
        '${action}' AS ENGAGEMENT_ACTION, TIMESTAMP '${at}' AS ENGAGEMENT_DATE, ${meta('L3', '2026-10-04 00:00:00', id, 'Marketing_Automation')}`);
    const publish = (m: RunManifest) => metricsOf(m, 'CUSTOMER_ENGAGEMENT_EVENTS.publish') as { partitions: number; reasons: Record<string, number> };
    const lastChange = async () => (await readDatasetState(lake, 'silver/customer360/engagement'))!.changes.at(-1)!.partitions;
    // Another campaign: none of CRM-1's rows of CMP-001 (2026-09-01, 09-02) is re-checked.
    await engagement('g4.parquet', 'G4', 'CMP-002', 'SENT', '2026-09-20 08:00:00');
    const other = await runPipeline({ home, lake, log: createLogger({ silent: true }), pipeline, runDate: '2026-10-04', runId: 'run-4' });
    expect(other.status).toBe('succeeded');
    expect(publish(other)).toMatchObject({ partitions: 1, reasons: { staged: 1, self: 1 } });
    expect(await lastChange()).toEqual(['2026-09-20']);
    // The same campaign: its two earlier days are re-checked, but their flags stay, so only the new row's day is rewritten.
    await engagement('g5.parquet', 'G5', 'CMP-001', 'CLICKED', '2026-09-03 08:00:00');
    const same = await runPipeline({ home, lake, log: createLogger({ silent: true }), pipeline, runDate: '2026-10-04', runId: 'run-5' });
    expect(same.status).toBe('succeeded');
    expect(publish(same)).toMatchObject({ partitions: 1, reasons: { staged: 1, self: 3, unchanged: 2 } });
    expect(await lastChange()).toEqual(['2026-09-03']);
    const rows = Object.fromEntries((await silver('engagement')).map((e) => [String(e.ENGAGEMENT_ID), e._dq_flags as string[]]));
    expect(rows.G2).toContain('ENGAGEMENT_ACTION:FUNNEL_ORDER');
    expect(rows.G5).toEqual([]);
    expect(Object.keys(rows).sort()).toEqual(['G1', 'G2', 'G3', 'G4', 'G5']);
  });
});

describe('Silver SQL generators', () => {
  it('canonicalise campaign ids, score records and flag contract violations', async () => {
    const { campaignIdSql, columnFlagSql, qualityScoreSql } = await import('../src/silver/standardise-table.ts');
    const { CUSTOMER_SERVICE_INTERACTIONS } = await import('../schemas/customer-service-interactions.ts');
    const e = await Engine.open();
    try {
      expect(await e.scalar(`SELECT ${campaignIdSql("' cmp_ 001 '")}`)).toBe('CMP-001');
      expect(await e.scalar(`SELECT ${qualityScoreSql('1.0', "['A:B']")}`)).toBeCloseTo(0.825, 6);
      expect(await e.scalar(`SELECT ${qualityScoreSql('0.5', '[]::VARCHAR[]')}`)).toBeCloseTo(0.85, 6);
      const score = CUSTOMER_SERVICE_INTERACTIONS.columns.find((c) => c.name === 'SATISFACTION_SCORE')!;
      const flags = columnFlagSql(score);
      expect(flags).toEqual([
        "CASE WHEN s.\"SATISFACTION_SCORE\" < 1 THEN 'SATISFACTION_SCORE:RANGE' END",
        "CASE WHEN s.\"SATISFACTION_SCORE\" > 5 THEN 'SATISFACTION_SCORE:RANGE' END",
      ]);
      expect(await e.scalar(`SELECT list_filter([${flags.join(', ')}], x -> x IS NOT NULL) FROM (SELECT 7 AS "SATISFACTION_SCORE") s`)).toEqual(['SATISFACTION_SCORE:RANGE']);
    } finally {
      e.close();
    }
  });
});
