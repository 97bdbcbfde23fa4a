// A small hand-made Silver scenario (three people across four source systems) whose Gold results can be worked out
// by hand; the tests' fixture and a worked example in docs/gold.md. `later` rows lie after AS_OF and must not change
// anything computed as of AS_OF.
import type { Engine } from '../engine/duckdb.ts';
import type { Lake } from '../lake/lake.ts';
import { goldDir } from './paths.ts';
import { INTELLIGENCE_COLUMNS } from './intelligence-inputs.ts';
import { writeCrosswalkFixture, writeGoldFixture, writeSilverFixture, type FixtureRow } from './silver-fixture.ts';

export const AS_OF = '2026-03-31';

export const CROSSWALK: FixtureRow[] = [
  { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1' },
  { SOURCE_SYSTEM: 'POS', CUSTOMER_ID: 'S1', CUSTOMER360_ID: 'P1' },
  { SOURCE_SYSTEM: 'ECOMMERCE', CUSTOMER_ID: 'E1', CUSTOMER360_ID: 'P1' },
  { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C2', CUSTOMER360_ID: 'P2' },
  { SOURCE_SYSTEM: 'MARKETING', CUSTOMER_ID: 'M3', CUSTOMER360_ID: 'P3' },
  { SOURCE_SYSTEM: 'CRM', CUSTOMER_ID: 'C4', CUSTOMER360_ID: 'P4' },
];

const cust = (r: FixtureRow): FixtureRow => ({ COUNTRY_CODE: null, CUSTOMER_STATUS: 'ACTIVE', ...r });

export const CUSTOMERS: FixtureRow[] = [
  cust({ CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', _source_system: 'CRM', FIRST_NAME: 'Ann', LAST_NAME: 'Lee', EMAIL_ADDRESS: 'ann@old.example.com', REGISTRATION_DATE: '2025-01-01', LAST_LOGIN_DATE: '2026-01-01', ADDRESS_LINE_1: '1 Main St', CITY: 'Boston', STATE_CODE: 'MA', ZIP_CODE: '02101', COUNTRY_CODE: 'US', LOYALTY_TIER: 'SILVER', LOYALTY_POINTS: 100, DATE_OF_BIRTH: '1990-05-01' }),
  cust({ CUSTOMER_ID: 'S1', CUSTOMER360_ID: 'P1', _source_system: 'POS', FIRST_NAME: 'Anne', EMAIL_ADDRESS: 'ann@new.example.com', REGISTRATION_DATE: '2025-06-01', LAST_LOGIN_DATE: '2026-03-01', CITY: 'Cambridge', LOYALTY_TIER: 'GOLD', LOYALTY_POINTS: 250, DATE_OF_BIRTH: '1990-05-02' }),
  cust({ CUSTOMER_ID: 'E1', CUSTOMER360_ID: 'P1', _source_system: 'ECOMMERCE', EMAIL_ADDRESS: 'not-an-email', PHONE_NUMBER: '+1 617 555 0101', REGISTRATION_DATE: '2025-07-01', LAST_LOGIN_DATE: '2026-03-20', PREFERRED_CHANNEL: 'ECOMMERCE' }),
  cust({ CUSTOMER_ID: 'C2', CUSTOMER360_ID: 'P2', _source_system: 'CRM', FIRST_NAME: 'Bob', LAST_NAME: 'Ng', EMAIL_ADDRESS: 'bob@example.com', REGISTRATION_DATE: '2025-02-01', LOYALTY_TIER: 'BRONZE', LOYALTY_POINTS: 10 }),
  cust({ CUSTOMER_ID: 'M3', CUSTOMER360_ID: 'P3', _source_system: 'MARKETING', FIRST_NAME: 'Cy', EMAIL_ADDRESS: 'cy@example.com', REGISTRATION_DATE: '2026-02-01' }),
];
const LATER_CUSTOMERS: FixtureRow[] = [cust({ CUSTOMER_ID: 'C4', CUSTOMER360_ID: 'P4', _source_system: 'CRM', FIRST_NAME: 'Dee', REGISTRATION_DATE: '2026-04-15' })];

const tx = (id: string, cid: string | null, pid: string | null, at: string, amount: number, o: FixtureRow = {}): FixtureRow => ({
  TRANSACTION_ID: id, CUSTOMER_ID: cid, CUSTOMER360_ID: pid, TRANSACTION_DATE: at, TOTAL_AMOUNT: amount, TRANSACTION_TYPE: 'PURCHASE',
  TRANSACTION_STATUS: 'COMPLETED', CHANNEL: 'POS', CURRENCY_CODE: 'USD', ...o,
});

export const TRANSACTIONS: FixtureRow[] = [
  tx('T1', 'C1', 'P1', '2026-01-10 12:00:00', 100.0, { CHANNEL: 'ECOMMERCE' }),
  tx('T2', 'S1', 'P1', '2026-03-25 12:00:00', 50.0),
  tx('T3', 'S1', 'P1', '2026-03-30 12:00:00', 25.5),
  tx('T4', 'S1', 'P1', '2026-03-30 13:00:00', 25.5, { TRANSACTION_TYPE: 'RETURN' }),
  tx('T5', 'C2', 'P2', '2026-02-15 12:00:00', 300.0, { CHANNEL: 'ECOMMERCE' }),
  tx('T6', 'C2', 'P2', '2026-03-01 12:00:00', 80.0, { TRANSACTION_STATUS: 'FAILED' }),
  tx('T8', 'X9', null, '2026-03-10 12:00:00', 10.0),
];
const LATER_TRANSACTIONS: FixtureRow[] = [tx('T7', 'C2', 'P2', '2026-04-05 12:00:00', 999.0), tx('T9', 'C4', 'P4', '2026-04-16 12:00:00', 5.0)];

export const ITEMS: FixtureRow[] = [
  { ITEM_ID: 'I1', TRANSACTION_ID: 'T1', PRODUCT_ID: 'PR1', PRODUCT_NAME: 'Runner', CATEGORY: 'Shoes', BRAND: 'Acme', QUANTITY: 1, UNIT_PRICE: 100, TOTAL_PRICE: 100, ITEM_STATUS: 'SOLD' },
  { ITEM_ID: 'I2', TRANSACTION_ID: 'T2', PRODUCT_ID: 'PR2', PRODUCT_NAME: 'Tote', CATEGORY: 'Bags', BRAND: 'Acme', QUANTITY: 2, UNIT_PRICE: 25, TOTAL_PRICE: 50, ITEM_STATUS: 'SOLD' },
  { ITEM_ID: 'I3', TRANSACTION_ID: 'T3', PRODUCT_ID: 'PR1', PRODUCT_NAME: 'Runner 2', CATEGORY: 'Shoes', BRAND: 'Acme', QUANTITY: 1, UNIT_PRICE: 25.5, TOTAL_PRICE: 25.5, ITEM_STATUS: 'SOLD' },
  { ITEM_ID: 'I5', TRANSACTION_ID: 'T5', PRODUCT_ID: 'PR3', PRODUCT_NAME: 'Coat', CATEGORY: 'Outerwear', BRAND: 'Nord', QUANTITY: 1, UNIT_PRICE: 300, TOTAL_PRICE: 300, ITEM_STATUS: 'SOLD' },
];
const LATER_ITEMS: FixtureRow[] = [{ ITEM_ID: 'I7', TRANSACTION_ID: 'T7', PRODUCT_ID: 'PR9', PRODUCT_NAME: 'Later', CATEGORY: 'Later', QUANTITY: 1, UNIT_PRICE: 999, TOTAL_PRICE: 999, ITEM_STATUS: 'SOLD' }];

export const SESSIONS: FixtureRow[] = [
  { SESSION_ID: 'SS1', CUSTOMER_ID: 'E1', CUSTOMER360_ID: 'P1', SESSION_START: '2026-03-30 10:00:00', SESSION_END: '2026-03-30 10:10:00', SESSION_DURATION: 600, PAGE_VIEWS: 3, CONVERSION_EVENT: true, CONVERSION_VALUE: 25.5 },
  { SESSION_ID: 'SS2', CUSTOMER_ID: 'E1', CUSTOMER360_ID: 'P1', SESSION_START: '2026-03-01 10:00:00', SESSION_END: '2026-03-01 10:01:00', SESSION_DURATION: 60, PAGE_VIEWS: 1 },
  { SESSION_ID: 'SS3', CUSTOMER_ID: 'C2', CUSTOMER360_ID: 'P2', SESSION_START: '2026-03-30 11:00:00', SESSION_END: '2026-03-30 11:05:00', SESSION_DURATION: 300, PAGE_VIEWS: 1 },
];
const LATER_SESSIONS: FixtureRow[] = [{ SESSION_ID: 'SS4', CUSTOMER_ID: 'E1', CUSTOMER360_ID: 'P1', SESSION_START: '2026-04-02 10:00:00', PAGE_VIEWS: 9 }];

const ev = (id: string, pid: string, session: string | null, type: string, at: string, device: string, product: string | null): FixtureRow => ({
  EVENT_ID: id, CUSTOMER_ID: pid === 'P1' ? 'E1' : 'C2', CUSTOMER360_ID: pid, SESSION_ID: session, EVENT_TYPE: type, EVENT_DATE: at,
  DEVICE_TYPE: device, PRODUCT_ID: product, PAGE_URL: product ? `https://shop.example.com/p/${product}` : 'https://shop.example.com/', PAGE_TITLE: product ?? 'Home',
});
export const EVENTS: FixtureRow[] = [
  ev('EV1', 'P1', 'SS1', 'PAGE_VIEW', '2026-03-30 10:01:00', 'DESKTOP', 'PR1'),
  ev('EV2', 'P1', 'SS1', 'CART_ADD', '2026-03-30 10:05:00', 'DESKTOP', 'PR1'),
  ev('EV3', 'P2', 'SS3', 'PAGE_VIEW', '2026-03-30 11:01:00', 'MOBILE', 'PR2'),
  ev('EV4', 'P1', null, 'PAGE_VIEW', '2026-03-24 09:00:00', 'MOBILE', null),
  ev('EV6', 'P1', 'SS2', 'PAGE_VIEW', '2026-03-01 10:00:00', 'DESKTOP', 'PR2'),
];
const LATER_EVENTS: FixtureRow[] = [ev('EV5', 'P1', 'SS4', 'PAGE_VIEW', '2026-04-01 10:00:00', 'TABLET', 'PR3')];

const eng = (id: string, pid: string, campaign: string, type: string, action: string, at: string): FixtureRow => ({
  ENGAGEMENT_ID: id, CUSTOMER_ID: pid === 'P1' ? 'C1' : 'C2', CUSTOMER360_ID: pid, CAMPAIGN_ID: campaign, ENGAGEMENT_TYPE: type,
  ENGAGEMENT_ACTION: action, ENGAGEMENT_DATE: at, ENGAGEMENT_STATUS: 'SUCCESS',
});
export const ENGAGEMENT: FixtureRow[] = [
  eng('G1', 'P1', 'CMP1', 'EMAIL', 'SENT', '2026-03-20 08:00:00'),
  eng('G2', 'P1', 'CMP1', 'EMAIL', 'OPENED', '2026-03-24 10:00:00'),
  eng('G3', 'P1', 'CMP2', 'SMS', 'CLICKED', '2026-03-29 09:00:00'),
  eng('G4', 'P2', 'CMP1', 'EMAIL', 'OPENED', '2026-02-14 12:00:00'),
  eng('G5', 'P2', 'CMP1', 'EMAIL', 'DELIVERED', '2026-02-13 12:00:00'),
  eng('G6', 'P1', 'CMP1', 'EMAIL', 'OPENED', '2026-01-01 12:00:00'),
];
const LATER_ENGAGEMENT: FixtureRow[] = [eng('G7', 'P2', 'CMP1', 'EMAIL', 'CLICKED', '2026-04-04 12:00:00')];

export const CAMPAIGNS: FixtureRow[] = [
  { CAMPAIGN_ID: 'CMP1', CAMPAIGN_NAME: 'Spring email', CAMPAIGN_TYPE: 'EMAIL', START_DATE: '2026-01-01', END_DATE: '2026-06-30', BUDGET: 1000, SPENT_AMOUNT: 250 },
  { CAMPAIGN_ID: 'CMP2', CAMPAIGN_NAME: 'SMS blast', CAMPAIGN_TYPE: 'SMS', START_DATE: '2026-03-01', END_DATE: '2026-03-31', BUDGET: 500, SPENT_AMOUNT: 100 },
];
const LATER_CAMPAIGNS: FixtureRow[] = [{ CAMPAIGN_ID: 'CMP3', CAMPAIGN_NAME: 'Summer', START_DATE: '2026-05-01', BUDGET: 10, SPENT_AMOUNT: 0 }];

export const TICKETS: FixtureRow[] = [
  { TICKET_ID: 'K1', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', TICKET_STATUS: 'OPEN', TICKET_PRIORITY: 'HIGH', TICKET_CATEGORY: 'BILLING', CREATION_DATE: '2026-03-28 09:00:00', FIRST_RESPONSE_TIME: 30 },
  { TICKET_ID: 'K2', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', TICKET_STATUS: 'RESOLVED', TICKET_PRIORITY: 'LOW', TICKET_CATEGORY: 'TECHNICAL', CREATION_DATE: '2026-02-01 09:00:00', FIRST_RESPONSE_TIME: 10, TOTAL_RESOLUTION_TIME: 120, CUSTOMER_SATISFACTION: 4 },
  { TICKET_ID: 'K3', CUSTOMER_ID: 'C2', CUSTOMER360_ID: 'P2', TICKET_STATUS: 'CLOSED', TICKET_PRIORITY: 'HIGH', TICKET_CATEGORY: 'BILLING', CREATION_DATE: '2026-03-31 09:00:00', FIRST_RESPONSE_TIME: 50, TOTAL_RESOLUTION_TIME: 60, CUSTOMER_SATISFACTION: 2 },
];
export const INTERACTIONS: FixtureRow[] = [
  { INTERACTION_ID: 'N1', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', TICKET_ID: 'K1', INTERACTION_TYPE: 'PHONE', INTERACTION_DATE: '2026-03-28 09:30:00', SENTIMENT_SCORE: -0.5, CATEGORY: 'BILLING' },
  { INTERACTION_ID: 'N2', CUSTOMER_ID: 'C2', CUSTOMER360_ID: 'P2', TICKET_ID: 'K3', INTERACTION_TYPE: 'CHAT', INTERACTION_DATE: '2026-03-31 09:10:00', SENTIMENT_SCORE: 0.25, SATISFACTION_SCORE: 2, CATEGORY: 'BILLING' },
];
export const EXT_PROFILES: FixtureRow[] = [
  { PROFILE_ID: 'X1', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', PROFILE_DATE: '2026-01-01', AGE_RANGE: '25-34', INCOME_RANGE: '50-75k' },
  { PROFILE_ID: 'X2', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', PROFILE_DATE: '2026-03-01', AGE_RANGE: '35-44' },
];
const LATER_EXT_PROFILES: FixtureRow[] = [{ PROFILE_ID: 'X3', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', PROFILE_DATE: '2026-04-10', AGE_RANGE: '45-54' }];
export const EXT_SENTIMENT: FixtureRow[] = [{ SENTIMENT_ID: 'Z1', CUSTOMER_ID: 'C1', CUSTOMER360_ID: 'P1', SENTIMENT_DATE: '2026-03-15', SENTIMENT_SCORE: 0.5, MENTION_COUNT: 3 }];

export async function writeScenarioSilver(engine: Engine, lake: Lake, tmpDir: string, o: { later?: boolean } = {}): Promise<void> {
  const later = o.later === true;
  const w = (table: string, base: FixtureRow[], extra: FixtureRow[] = []) => writeSilverFixture(engine, lake, tmpDir, table, later ? [...base, ...extra] : base);
  await w('CUSTOMERS', CUSTOMERS, LATER_CUSTOMERS);
  await w('CUSTOMER_TRANSACTIONS', TRANSACTIONS, LATER_TRANSACTIONS);
  await w('CUSTOMER_TRANSACTION_ITEMS', ITEMS, LATER_ITEMS);
  await w('CUSTOMER_SESSION_DATA', SESSIONS, LATER_SESSIONS);
  await w('CUSTOMER_BEHAVIORAL_EVENTS', EVENTS, LATER_EVENTS);
  await w('CUSTOMER_ENGAGEMENT_EVENTS', ENGAGEMENT, LATER_ENGAGEMENT);
  await w('MARKETING_CAMPAIGNS', CAMPAIGNS, LATER_CAMPAIGNS);
  await w('CUSTOMER_SERVICE_TICKETS', TICKETS);
  await w('CUSTOMER_SERVICE_INTERACTIONS', INTERACTIONS);
  await w('EXTERNAL_CUSTOMER_PROFILES', EXT_PROFILES, LATER_EXT_PROFILES);
  await w('EXTERNAL_CUSTOMER_SENTIMENT', EXT_SENTIMENT);
  await writeCrosswalkFixture(engine, lake, tmpDir, later ? CROSSWALK : CROSSWALK.filter((r) => r.CUSTOMER360_ID !== 'P4'));
}

/** Intelligence outputs as the intelligence part writes them, for loading tests. */
export async function writeScenarioIntelligence(engine: Engine, lake: Lake, tmpDir: string, asOf = AS_OF): Promise<void> {
  const g = (ds: string, rows: FixtureRow[]) => writeGoldFixture(engine, lake, tmpDir, goldDir(ds, asOf), INTELLIGENCE_COLUMNS[ds]!, rows);
  await g('risk_scores', [
    { CUSTOMER360_ID: 'P1', AS_OF_DATE: asOf, CHURN_RISK: 0.1, PREDICTED_PURCHASES: 2.5, PREDICTED_CLV: 120.5, P_ALIVE: 0.95, CHURN_MODEL_VERSION: 'churn-v1', CLV_MODEL_VERSION: 'clv-v1' },
    { CUSTOMER360_ID: 'P2', AS_OF_DATE: asOf, CHURN_RISK: 0.7, PREDICTED_PURCHASES: 0.4, PREDICTED_CLV: 60, P_ALIVE: 0.5, CHURN_MODEL_VERSION: 'churn-v1', CLV_MODEL_VERSION: 'clv-v1' },
  ]);
  await g('product_recommendations', [
    { CUSTOMER360_ID: 'P1', PRODUCT_ID: 'PR3', RANK: 1, SCORE: 0.9, REASON: 'Bought together with Runner', ALGORITHM: 'HYBRID', MODEL_VERSION: 'reco-v1', AS_OF_DATE: asOf },
    { CUSTOMER360_ID: 'P1', PRODUCT_ID: 'PR2', RANK: 2, SCORE: 0.5, REASON: 'You bought this before', ALGORITHM: 'HYBRID', MODEL_VERSION: 'reco-v1', AS_OF_DATE: asOf },
    { CUSTOMER360_ID: 'P2', PRODUCT_ID: 'PR1', RANK: 1, SCORE: 0.8, REASON: 'Popular in your categories', ALGORITHM: 'HYBRID', MODEL_VERSION: 'reco-v1', AS_OF_DATE: asOf },
  ]);
  await g('customer_segments', [
    { CUSTOMER360_ID: 'P1', AS_OF_DATE: asOf, SEGMENT_ID: 1, SEGMENT_LABEL: 'Engaged regulars', MODEL_VERSION: 'seg-v1' },
    { CUSTOMER360_ID: 'P2', AS_OF_DATE: asOf, SEGMENT_ID: 2, SEGMENT_LABEL: 'Lapsing big spenders', MODEL_VERSION: 'seg-v1' },
    { CUSTOMER360_ID: 'P3', AS_OF_DATE: asOf, SEGMENT_ID: 3, SEGMENT_LABEL: 'Prospects', MODEL_VERSION: 'seg-v1' },
  ]);
  await g('model_registry', [
    { MODEL_NAME: 'churn', MODEL_VERSION: 'churn-v1', MODEL_TYPE: 'LOGISTIC_REGRESSION', TRAINED_AT: '2026-03-31 23:00:00', TRAINING_WINDOW_START: '2025-10-01', TRAINING_WINDOW_END: '2025-12-31', FEATURE_SNAPSHOT_VERSION: 'fs-1', PARAMETERS_JSON: '{}', METRICS_JSON: '{"auc":0.7}' },
    { MODEL_NAME: 'reco', MODEL_VERSION: 'reco-v1', MODEL_TYPE: 'HYBRID', TRAINED_AT: '2026-03-31 23:00:00', TRAINING_WINDOW_START: '2025-10-01', TRAINING_WINDOW_END: '2026-03-31', FEATURE_SNAPSHOT_VERSION: 'fs-1', PARAMETERS_JSON: '{}', METRICS_JSON: '{}' },
  ]);
}
