// Per-channel consent of a person, derived from the consent and opt-in evidence of the sources:
//   - explicit COMMUNICATION preferences (CUSTOMER_PREFERENCE_DATA): PREFERENCE_VALUE names the channel,
//     PREFERENCE_STATUS ACTIVE grants it, INACTIVE withdraws it (OVERRIDDEN rows were superseded and say nothing);
//   - explicit PRODUCT/BRAND/CATEGORY preferences that are ACTIVE: the person asked for content chosen for them
//     (personalisation), as does an explicit COMMUNICATION preference with value PERSONALIZATION;
//   - unsubscribes (CUSTOMER_ENGAGEMENT_EVENTS with ENGAGEMENT_ACTION UNSUBSCRIBED): withdraw the message's channel.
// Inferred or implicit preferences are not consent, and a preferred channel on the customer record is not consent.
// Per person and channel the latest evidence wins (a withdrawal wins a tie); no evidence means no consent (fail
// closed): marketing consumers may contact a person on a channel only where the flag is TRUE.
import type { ColumnSpec } from '../catalogue/dataset.ts';
import { AS_OF, ID, gold } from '../gold/dataset.ts';
import { dateLit } from '../gold/paths.ts';
import { T } from '../warehouse/types.ts';
import { byDay } from '../gold/day-partitioned.ts';
import { lifetime } from '../gold/lifetime.ts';

/** The consent channels, in column order (CONSENT_<channel>). */
export const CONSENT_CHANNELS = ['EMAIL', 'SMS', 'PHONE', 'PUSH', 'PERSONALIZATION'] as const;
export type ConsentChannel = (typeof CONSENT_CHANNELS)[number];

const CHANNEL_TEXT: Record<ConsentChannel, string> = {
  EMAIL: 'e-mail marketing',
  SMS: 'SMS/text marketing',
  PHONE: 'marketing phone calls',
  PUSH: 'push and in-app messages',
  PERSONALIZATION: 'personalised content and recommendations',
};

/** The consent columns, shared by customer_consent and the profile (declared once here). */
export const CONSENT_COLUMNS: readonly ColumnSpec[] = [
  ...CONSENT_CHANNELS.map((c): ColumnSpec => [`CONSENT_${c}`, T.boolean, `Consent to ${CHANNEL_TEXT[c]}: TRUE only on an explicit opt-in not withdrawn since (no evidence = FALSE)`]),
  ['CONSENT_UPDATED_AT', T.timestamp, 'Time of the latest consent evidence of the person (NULL: none)'],
];

/** Source values naming a channel (upper-cased, trimmed) -> the consent channel. */
export const CHANNEL_ALIASES: Record<string, ConsentChannel> = {
  EMAIL: 'EMAIL', 'E-MAIL': 'EMAIL',
  SMS: 'SMS', TEXT: 'SMS',
  PHONE: 'PHONE', CALL: 'PHONE', VOICE: 'PHONE',
  PUSH: 'PUSH', IN_APP: 'PUSH', APP: 'PUSH',
  PERSONALIZATION: 'PERSONALIZATION', PERSONALISATION: 'PERSONALIZATION',
};

const channelOf = (expr: string) =>
  `CASE upper(trim(${expr})) ${Object.entries(CHANNEL_ALIASES).map(([k, v]) => `WHEN '${k}' THEN '${v}'`).join(' ')} END`;

/**
 * A day's consent evidence per person and channel (from views s_preferences and s_engagement): the latest as one
 * sortable key, its time (ISO, microseconds) then 1 for a withdrawal or 0 for a grant, so the greatest key over any
 * days is the latest evidence and a withdrawal wins a tie.
 */
function evidenceSql(): string {
  return `WITH evidence AS (
  SELECT CUSTOMER360_ID, ${channelOf('PREFERENCE_VALUE')} AS channel, CAST(PREFERENCE_DATE AS TIMESTAMP) AS ev_at,
    PREFERENCE_STATUS = 'ACTIVE' AS granted
  FROM s_preferences
  WHERE CUSTOMER360_ID IS NOT NULL AND PREFERENCE_TYPE = 'COMMUNICATION' AND PREFERENCE_SOURCE = 'EXPLICIT'
    AND PREFERENCE_STATUS IN ('ACTIVE', 'INACTIVE')
  UNION ALL
  SELECT CUSTOMER360_ID, 'PERSONALIZATION', CAST(PREFERENCE_DATE AS TIMESTAMP), true
  FROM s_preferences
  WHERE CUSTOMER360_ID IS NOT NULL AND PREFERENCE_TYPE IN ('PRODUCT', 'BRAND', 'CATEGORY') AND PREFERENCE_SOURCE = 'EXPLICIT'
    AND PREFERENCE_STATUS = 'ACTIVE'
  UNION ALL
  SELECT CUSTOMER360_ID, ${channelOf('ENGAGEMENT_TYPE')}, CAST(ENGAGEMENT_DATE AS TIMESTAMP), false
  FROM s_engagement WHERE CUSTOMER360_ID IS NOT NULL AND ENGAGEMENT_ACTION = 'UNSUBSCRIBED'
)
SELECT CUSTOMER360_ID, channel AS CHANNEL, CAST(ev_at AS DATE) AS EVIDENCE_DATE,
  max(strftime(ev_at, '%Y-%m-%dT%H:%M:%S.%f') || CASE WHEN granted THEN '0' ELSE '1' END) AS LATEST_KEY
FROM evidence WHERE channel IS NOT NULL AND ev_at IS NOT NULL GROUP BY ALL`;
}

/** The consent evidence by day (maintained for the days Silver changed, day-partitioned.ts). */
export const consentEvidenceDaily = byDay({ ...gold({
  name: 'consent_evidence_daily',
  description: 'Per person, consent channel and day: the day\'s latest consent evidence (what customer_consent is merged from)',
  grain: 'one row per (CUSTOMER360_ID, CHANNEL, EVIDENCE_DATE) with consent evidence',
  job: 'gold-customer',
  primaryKey: ['CUSTOMER360_ID', 'CHANNEL', 'EVIDENCE_DATE'],
  columns: [
    ID, ['CHANNEL', T.varchar, 'Consent channel'], ['EVIDENCE_DATE', T.date, 'Day of the evidence'],
    ['LATEST_KEY', T.varchar, 'The day\'s latest evidence: its time (ISO, microseconds) then 1 (withdrawal) or 0 (grant); the greatest is the latest'],
  ],
  sql: evidenceSql,
}), path: 'gold/aggregates/consent_evidence_daily' }, { dayColumn: 'EVIDENCE_DATE' });

/** Per person and channel the latest evidence over every day (lifetime.ts: kept with the evidence by day). */
export const consentLifetime = lifetime({
  name: 'consent_lifetime',
  description: 'Per person and consent channel: the latest consent evidence over every day held',
  of: consentEvidenceDaily,
  key: ['CUSTOMER360_ID', 'CHANNEL'],
  where: 'CUSTOMER360_ID IS NOT NULL',
  sums: [],
  extremes: [{ name: 'LATEST_KEY', fn: 'max', expr: 'LATEST_KEY', filter: 'true', type: T.varchar, comment: 'The latest evidence (see consent_evidence_daily)' }],
});

/** Per person and channel the latest evidence wins (a withdrawal wins a tie); no evidence: every flag FALSE. */
export function customerConsentSql(p: { asOf: string }): string {
  return `WITH latest AS (
  SELECT CUSTOMER360_ID, CHANNEL AS channel, right(LATEST_KEY, 1) = '0' AS granted, CAST(left(LATEST_KEY, 26) AS TIMESTAMP) AS ev_at
  FROM g_consent_lifetime
)
SELECT u.CUSTOMER360_ID,
  ${CONSENT_CHANNELS.map((c) => `COALESCE(bool_or(l.granted) FILTER (WHERE l.channel = '${c}'), false) AS CONSENT_${c}`).join(',\n  ')},
  max(l.ev_at) AS CONSENT_UPDATED_AT,
  ${dateLit(p.asOf)} AS AS_OF_DATE
FROM s_universe u LEFT JOIN latest l USING (CUSTOMER360_ID)
GROUP BY u.CUSTOMER360_ID
ORDER BY u.CUSTOMER360_ID`;
}

export const customerConsent = gold({
  name: 'customer_consent',
  description: 'Per-channel marketing and personalisation consent of each person, from explicit opt-ins, opt-outs and unsubscribes',
  grain: 'one row per CUSTOMER360_ID known by the as-of date (no consent evidence: every flag FALSE)',
  job: 'gold-customer',
  primaryKey: ['CUSTOMER360_ID'],
  // The profile job reads it back as g_customer_consent for the profile's consent columns.
  keep: true,
  columns: [ID, ...CONSENT_COLUMNS, AS_OF],
  sql: customerConsentSql,
  warehouse: {
    schema: 'CUSTOMER_360', table: 'CUSTOMER_CONSENT', strategy: 'snapshot', clusterBy: ['CUSTOMER360_ID'],
    comment: 'Consent per person and channel (email, SMS, phone, push, personalisation); FALSE unless explicitly granted and not withdrawn',
  },
});
