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

export function customerConsentSql(p: { asOf: string }): string {
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
),
latest AS (
  SELECT CUSTOMER360_ID, channel, first(granted ORDER BY ev_at DESC, granted ASC) AS granted, max(ev_at) AS ev_at
  FROM evidence WHERE channel IS NOT NULL AND ev_at IS NOT NULL GROUP BY ALL
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
