// Retention periods of the source tables, declared once beside their contracts. `c360 retention` (the pipeline's
// retention stage, src/privacy/retention.ts) removes rows whose event time (the contract's eventTime) is older than the
// period from every layer: Bronze, quarantine, Silver, the Gold datasets that declare `retention` in the catalogue, the
// local warehouse and (by a generated plan) Snowflake. Every contract must say either how long or why it is kept, so a
// new source table cannot slip through without a decision.
import type { TableContract } from './contract.ts';

export type RetentionRule =
  | { months: number; why: string }
  /** Not expired by age: kept while the customer relationship lasts (a person leaves through `c360 forget`). */
  | { keep: string };

export const RETENTION: Readonly<Record<string, RetentionRule>> = {
  CUSTOMERS: { keep: 'the customer record itself: kept while the relationship lasts; erasure is per person (c360 forget)' },
  MARKETING_CAMPAIGNS: { keep: 'campaign definitions: no personal data' },
  CUSTOMER_TRANSACTIONS: { months: 84, why: 'bookkeeping and tax records: seven years' },
  CUSTOMER_TRANSACTION_ITEMS: { keep: 'no person column and no event time: a line item is linked to a person only through its transaction, which expires' },
  CUSTOMER_SESSION_DATA: { months: 25, why: 'behavioural analytics: two years plus a month for year-over-year comparison' },
  CUSTOMER_BEHAVIORAL_EVENTS: { months: 25, why: 'behavioural analytics: two years plus a month for year-over-year comparison' },
  CUSTOMER_ENGAGEMENT_EVENTS: { months: 25, why: 'marketing engagement history: two years plus a month for year-over-year comparison' },
  CUSTOMER_PREFERENCE_DATA: { keep: 'consent and preference evidence: the current consent state rests on it for as long as the relationship lasts' },
  CUSTOMER_SERVICE_TICKETS: { months: 36, why: 'service history: three years (warranty and complaint handling)' },
  CUSTOMER_SERVICE_INTERACTIONS: { months: 36, why: 'service history: three years (warranty and complaint handling)' },
  EXTERNAL_CUSTOMER_PROFILES: { months: 12, why: 'licensed third-party data: one year' },
  EXTERNAL_CUSTOMER_SENTIMENT: { months: 12, why: 'licensed third-party data: one year' },
  IDENTITY_LINKS: { keep: 'identity links: current state that identity resolution reads whole' },
  ACCOUNT_MEMBERSHIP: { keep: 'account membership: current state' },
};

/** The period of a table in months, or undefined when it is kept (or has no event time to age by). */
export function retentionMonths(c: TableContract): number | undefined {
  const r = RETENTION[c.name];
  if (!r) throw new Error(`No retention declared for ${c.name} (schemas/retention.ts)`);
  return 'months' in r && c.eventTime ? r.months : undefined;
}

/** The first day still kept: as-of date minus the period (day clamped to the month's length). */
export function retentionCutoff(asOf: string, months: number): string {
  const [y, m, d] = asOf.split('-').map(Number) as [number, number, number];
  const total = y * 12 + (m - 1) - months;
  const year = Math.floor(total / 12);
  const month = total - year * 12;
  const last = new Date(Date.UTC(year, month + 1, 0)).getUTCDate();
  return `${String(year).padStart(4, '0')}-${String(month + 1).padStart(2, '0')}-${String(Math.min(d, last)).padStart(2, '0')}`;
}
