// Consent: the sources' opt-ins, opt-outs and unsubscribes become one per-channel consent row per person (Gold
// customer_consent) and the same columns on the profile. Hand-made Silver rows whose consent is worked out by hand:
// latest evidence wins, a withdrawal wins a tie, implicit preferences and superseded rows are not consent, no
// evidence is no consent, and evidence after the as-of date changes nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { goldCustomerJob } from '../jobs/gold-customer.ts';
import { getDataset } from '../src/catalogue/index.ts';
import { Engine, litList } from '../src/engine/duckdb.ts';
import { goldDir } from '../src/gold/paths.ts';
import { LocalLake } from '../src/lake/local-lake.ts';
import { makeJobContext } from '../src/orchestrator/local-runner.ts';
import { CONSENT_COLUMNS } from '../src/privacy/consent.ts';
import { silentLogger } from '../src/runtime/logger.ts';
import { getTable } from '../src/warehouse/model.ts';
import { writeCrosswalkFixture, writeSilverFixture, type FixtureRow } from './fixtures/silver-fixture.ts';

const AS_OF = '2026-03-31';
type Row = Record<string, unknown>;

const pref = (id: string, cid: string, pid: string, type: string, value: string, source: string, date: string, status: string): FixtureRow => ({
  PREFERENCE_ID: id, CUSTOMER_ID: cid, CUSTOMER360_ID: pid, PREFERENCE_TYPE: type, PREFERENCE_VALUE: value, PREFERENCE_SOURCE: source,
  PREFERENCE_DATE: date, PREFERENCE_STATUS: status, PREFERENCE_STRENGTH: 0.8,
});
const unsub = (id: string, cid: string, pid: string, type: string, at: string): FixtureRow => ({
  ENGAGEMENT_ID: id, CUSTOMER_ID: cid, CUSTOMER360_ID: pid, CAMPAIGN_ID: 'CMP1', ENGAGEMENT_TYPE: type, ENGAGEMENT_ACTION: 'UNSUBSCRIBED',
  ENGAGEMENT_DATE: at, ENGAGEMENT_STATUS: 'SUCCESS',
});

let home: string;
let engine: Engine;
const read = async (lake: LocalLake, dataset: string): Promise<Record<string, Row>> => {
  const files = (await lake.list(goldDir(dataset, AS_OF))).map((f) => join(home, 'lake', f.path));
  const rows = await engine.all<Row>(`SELECT * FROM read_parquet(${litList(files)}) ORDER BY CUSTOMER360_ID`);
  return Object.fromEntries(rows.map((r) => [String(r.CUSTOMER360_ID), r]));
};
let consent: Record<string, Row>;
let profile: Record<string, Row>;

beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'c360-consent-'));
  const lake = new LocalLake(join(home, 'lake'));
  engine = await Engine.open();
  const tmp = join(home, 'tmp');
  await writeSilverFixture(engine, lake, tmp, 'CUSTOMERS', [
    { CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', _source_system: 'CRM', FIRST_NAME: 'Ann', REGISTRATION_DATE: '2025-01-01', PREFERRED_CHANNEL: 'EMAIL' },
    { CUSTOMER_ID: 'M1', CUSTOMER360_ID: 'P1', _source_system: 'MARKETING', REGISTRATION_DATE: '2025-01-01' },
    { CUSTOMER_ID: 'C2', CUSTOMER360_ID: 'P2', _source_system: 'CRM', REGISTRATION_DATE: '2025-01-01' },
    // preferred channel on the record is not consent
    { CUSTOMER_ID: 'C3', CUSTOMER360_ID: 'P3', _source_system: 'CRM', REGISTRATION_DATE: '2025-01-01', PREFERRED_CHANNEL: 'SMS' },
  ]);
  await writeCrosswalkFixture(engine, lake, tmp, [
    { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1' }, { SOURCE_SYSTEM: 'MARKETING', CUSTOMER_ID: 'M1', CUSTOMER360_ID: 'P1' },
    { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C2', CUSTOMER360_ID: 'P2' }, { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C3', CUSTOMER360_ID: 'P3' },
  ]);
  await writeSilverFixture(engine, lake, tmp, 'CUSTOMER_PREFERENCE_DATA', [
    // P1: e-mail granted, then unsubscribed from an e-mail (on another source record of the same person)
    pref('R1', 'C1', 'P1', 'COMMUNICATION', 'EMAIL', 'EXPLICIT', '2026-01-05', 'ACTIVE'),
    pref('R2', 'M1', 'P1', 'COMMUNICATION', 'SMS', 'EXPLICIT', '2026-02-01', 'ACTIVE'),
    pref('R3', 'C1', 'P1', 'COMMUNICATION', 'PUSH', 'EXPLICIT', '2026-01-01', 'OVERRIDDEN'),
    pref('R4', 'C1', 'P1', 'CATEGORY', 'Shoes', 'EXPLICIT', '2026-02-10', 'ACTIVE'),
    // P2: withdrew e-mail, then granted it again; implicit SMS is no consent; phone spelt loosely; push granted and
    // withdrawn (in-app unsubscribe) the same day; inferred category is no personalisation consent
    pref('R5', 'C2', 'P2', 'COMMUNICATION', 'EMAIL', 'EXPLICIT', '2026-01-01', 'INACTIVE'),
    pref('R6', 'C2', 'P2', 'COMMUNICATION', 'EMAIL', 'EXPLICIT', '2026-03-15', 'ACTIVE'),
    pref('R7', 'C2', 'P2', 'COMMUNICATION', 'SMS', 'IMPLICIT', '2026-03-01', 'ACTIVE'),
    pref('R8', 'C2', 'P2', 'COMMUNICATION', ' phone ', 'EXPLICIT', '2026-02-01', 'ACTIVE'),
    pref('R9', 'C2', 'P2', 'COMMUNICATION', 'PUSH', 'EXPLICIT', '2026-03-20', 'ACTIVE'),
    pref('R10', 'C2', 'P2', 'CATEGORY', 'Bags', 'INFERRED', '2026-03-01', 'ACTIVE'),
    // after the as-of date: must not count
    pref('R11', 'C2', 'P2', 'COMMUNICATION', 'EMAIL', 'EXPLICIT', '2026-04-10', 'INACTIVE'),
  ]);
  await writeSilverFixture(engine, lake, tmp, 'CUSTOMER_ENGAGEMENT_EVENTS', [
    unsub('G1', 'M1', 'P1', 'EMAIL', '2026-03-01 10:00:00'),
    unsub('G2', 'C2', 'P2', 'IN_APP', '2026-03-20 00:00:00'),
    { ENGAGEMENT_ID: 'G3', CUSTOMER_ID: 'C3', CUSTOMER360_ID: 'P3', CAMPAIGN_ID: 'CMP1', ENGAGEMENT_TYPE: 'EMAIL', ENGAGEMENT_ACTION: 'OPENED', ENGAGEMENT_DATE: '2026-03-02 10:00:00' },
  ]);
  const ctx = makeJobContext({ home, lake, log: silentLogger, runId: 'r1', loadId: 'l1', runDate: AS_OF, asOf: AS_OF, params: {} });
  await goldCustomerJob.run(ctx);
  consent = await read(lake, 'customer_consent');
  profile = await read(lake, 'customer_profile');
});

afterAll(async () => {
  engine?.close();
  if (home) await rm(home, { recursive: true, force: true });
});

const flags = (r: Row | undefined) => r && { EMAIL: r.CONSENT_EMAIL, SMS: r.CONSENT_SMS, PHONE: r.CONSENT_PHONE, PUSH: r.CONSENT_PUSH, PERSONALIZATION: r.CONSENT_PERSONALIZATION };

describe('customer_consent', () => {
  it('has one row per person, with the per-channel state worked out by hand', () => {
    expect(Object.keys(consent)).toEqual(['P1', 'P2', 'P3']);
    expect(flags(consent.P1)).toEqual({ EMAIL: false, SMS: true, PHONE: false, PUSH: false, PERSONALIZATION: true });
    expect(flags(consent.P2)).toEqual({ EMAIL: true, SMS: false, PHONE: true, PUSH: false, PERSONALIZATION: false });
    expect(flags(consent.P3)).toEqual({ EMAIL: false, SMS: false, PHONE: false, PUSH: false, PERSONALIZATION: false });
  });

  it('dates the latest evidence (none: null), never evidence after the as-of date', () => {
    expect(String(consent.P1!.CONSENT_UPDATED_AT)).toMatch(/^2026-03-01[ T]10:00:00/);
    expect(String(consent.P2!.CONSENT_UPDATED_AT)).toMatch(/^2026-03-20[ T]00:00:00/);
    expect(consent.P3!.CONSENT_UPDATED_AT).toBeNull();
  });

  it('the profile carries the same consent columns and values', () => {
    for (const id of ['P1', 'P2', 'P3']) {
      for (const [c] of CONSENT_COLUMNS) expect(String(profile[id]![c]), `${id} ${c}`).toBe(String(consent[id]![c]));
    }
  });

  it('is declared once and mapped to the warehouse, on the profile table too', () => {
    const names = CONSENT_COLUMNS.map(([c]) => c);
    expect(names).toEqual(['CONSENT_EMAIL', 'CONSENT_SMS', 'CONSENT_PHONE', 'CONSENT_PUSH', 'CONSENT_PERSONALIZATION', 'CONSENT_UPDATED_AT']);
    // (the evidence by day reads the Silver tables; consent merges its latest per person and channel)
    expect(getDataset('consent_evidence_daily').inputs).toEqual(['customer_engagement_events', 'customer_preference_data']);
    expect(getDataset('consent_lifetime').inputs).toEqual(['consent_evidence_daily']);
    expect(getDataset('customer_consent').inputs).toContain('consent_lifetime');
    expect(getDataset('customer_profile').inputs).toContain('customer_consent');
    const table = getTable('CUSTOMER_360', 'CUSTOMER_CONSENT');
    expect(table.columns.map((c) => c.name)).toEqual(['CUSTOMER360_ID', ...names, 'AS_OF_DATE']);
    expect(getTable('CUSTOMER_360', 'DIM_CUSTOMER').columns.map((c) => c.name)).toEqual(expect.arrayContaining(names));
  });
});
