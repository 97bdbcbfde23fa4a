// Cross-table and cross-field checks applied when a Silver table is published. Failing rows are kept, flagged in
// `_dq_flags` with `COLUMN:CODE` and scored lower; the counts go into the run manifest.
import type { TableContract } from '../../schemas/contract.ts';

export interface Check {
  /** `COLUMN:CODE` written to _dq_flags. */
  code: string;
  /** Boolean SQL over `t` (the table) and the aliases its check set joins. */
  cond: string;
}

export interface CheckSet {
  /** Other tables needed (contract names); each is available as view stg_<bronzeDir with / as _>. */
  needs: readonly string[];
  /**
   * How a row reaches the rows it is checked against, for incremental publishing: per needed table, this table's
   * column holding that table's key. A change of those rows re-publishes the rows that reach them.
   */
  refs?: Readonly<Record<string, string>>;
  /**
   * Columns joining rows of this table to each other (a check comparing a row with others of the same values): a
   * changed row re-publishes the rows with its values. All of them, so a customer's new engagement re-checks that
   * customer's rows of the same campaign, not every engagement of the customer's history.
   */
  self?: readonly string[];
  joins: readonly string[];
  checks: readonly Check[];
}

/** View name of a staged table. */
export const stagedView = (c: TableContract) => `stg_${c.bronzeDir.replace('/', '_')}`;

/** Funnel position of an engagement action; UNSUBSCRIBED has none (it may follow any stage). */
export const FUNNEL_STAGE_SQL = (action: string) =>
  `CASE ${action} WHEN 'SENT' THEN 1 WHEN 'DELIVERED' THEN 2 WHEN 'OPENED' THEN 3 WHEN 'CLICKED' THEN 4 END`;

export const CHECKS: Record<string, CheckSet> = {
  CUSTOMER_BEHAVIORAL_EVENTS: {
    needs: ['CUSTOMER_SESSION_DATA'],
    refs: { CUSTOMER_SESSION_DATA: 'SESSION_ID' },
    joins: ['LEFT JOIN stg_sessions ses ON ses.SESSION_ID = t.SESSION_ID'],
    checks: [
      { code: 'SESSION_ID:UNKNOWN_SESSION', cond: 't.SESSION_ID IS NOT NULL AND ses.SESSION_ID IS NULL' },
      { code: 'CUSTOMER_ID:SESSION_MISMATCH', cond: 't.CUSTOMER_ID IS NOT NULL AND ses.CUSTOMER_ID IS NOT NULL AND t.CUSTOMER_ID <> ses.CUSTOMER_ID' },
      {
        code: 'EVENT_DATE:OUTSIDE_SESSION',
        cond: "ses.SESSION_ID IS NOT NULL AND (t.EVENT_DATE < ses.SESSION_START - INTERVAL 1 MINUTE OR t.EVENT_DATE > coalesce(ses.SESSION_END, ses.SESSION_START + INTERVAL 1 DAY) + INTERVAL 1 MINUTE)",
      },
    ],
  },
  CUSTOMER_SESSION_DATA: {
    needs: ['MARKETING_CAMPAIGNS'],
    refs: { MARKETING_CAMPAIGNS: 'CAMPAIGN_ID' },
    joins: ['LEFT JOIN stg_campaigns cmp ON cmp.CAMPAIGN_ID = t.CAMPAIGN_ID'],
    checks: [
      { code: 'CAMPAIGN_ID:UNKNOWN_CAMPAIGN', cond: 't.CAMPAIGN_ID IS NOT NULL AND cmp.CAMPAIGN_ID IS NULL' },
      { code: 'SESSION_END:BEFORE_START', cond: 't.SESSION_END < t.SESSION_START' },
      { code: 'SESSION_DURATION:MISMATCH', cond: "t.SESSION_END IS NOT NULL AND t.SESSION_DURATION IS NOT NULL AND abs(date_diff('second', t.SESSION_START, t.SESSION_END) - t.SESSION_DURATION) > 60" },
    ],
  },
  CUSTOMER_ENGAGEMENT_EVENTS: {
    needs: ['MARKETING_CAMPAIGNS'],
    // FUNNEL_ORDER compares a row with the same customer's other rows of the campaign.
    refs: { MARKETING_CAMPAIGNS: 'CAMPAIGN_ID' },
    self: ['CUSTOMER_ID', 'CAMPAIGN_ID'],
    joins: ['LEFT JOIN stg_campaigns cmp ON cmp.CAMPAIGN_ID = t.CAMPAIGN_ID'],
    checks: [
      { code: 'CAMPAIGN_ID:UNKNOWN_CAMPAIGN', cond: 't.CAMPAIGN_ID IS NOT NULL AND cmp.CAMPAIGN_ID IS NULL' },
      {
        // A later funnel stage happening before an earlier stage of the same customer, campaign and channel.
        code: 'ENGAGEMENT_ACTION:FUNNEL_ORDER',
        cond: `EXISTS (SELECT 1 FROM stg_engagement e2 WHERE e2.CUSTOMER_ID = t.CUSTOMER_ID AND e2.CAMPAIGN_ID = t.CAMPAIGN_ID
          AND e2.ENGAGEMENT_TYPE IS NOT DISTINCT FROM t.ENGAGEMENT_TYPE
          AND ${FUNNEL_STAGE_SQL('e2.ENGAGEMENT_ACTION')} < ${FUNNEL_STAGE_SQL('t.ENGAGEMENT_ACTION')} AND e2.ENGAGEMENT_DATE > t.ENGAGEMENT_DATE)`,
      },
      { code: 'TIME_TO_CLICK:BEFORE_OPEN', cond: 't.TIME_TO_CLICK < t.TIME_TO_OPEN' },
    ],
  },
  CUSTOMER_SERVICE_TICKETS: {
    needs: [],
    joins: [],
    checks: [
      { code: 'RESOLUTION_DATE:BEFORE_CREATION', cond: 't.RESOLUTION_DATE < t.CREATION_DATE' },
      {
        code: 'TOTAL_RESOLUTION_TIME:MISMATCH',
        cond: "t.RESOLUTION_DATE IS NOT NULL AND t.TOTAL_RESOLUTION_TIME IS NOT NULL AND abs(date_diff('minute', t.CREATION_DATE, t.RESOLUTION_DATE) - t.TOTAL_RESOLUTION_TIME) > 5",
      },
      { code: 'FIRST_RESPONSE_TIME:AFTER_RESOLUTION', cond: 't.FIRST_RESPONSE_TIME > t.TOTAL_RESOLUTION_TIME' },
      { code: 'RESOLUTION_DATE:MISSING', cond: "t.TICKET_STATUS IN ('RESOLVED', 'CLOSED') AND t.RESOLUTION_DATE IS NULL" },
    ],
  },
  CUSTOMER_SERVICE_INTERACTIONS: {
    needs: ['CUSTOMER_SERVICE_TICKETS'],
    refs: { CUSTOMER_SERVICE_TICKETS: 'TICKET_ID' },
    joins: ['LEFT JOIN stg_tickets tk ON tk.TICKET_ID = t.TICKET_ID'],
    checks: [
      { code: 'TICKET_ID:UNKNOWN_TICKET', cond: 't.TICKET_ID IS NOT NULL AND tk.TICKET_ID IS NULL' },
      { code: 'CUSTOMER_ID:TICKET_MISMATCH', cond: 'tk.CUSTOMER_ID IS NOT NULL AND t.CUSTOMER_ID <> tk.CUSTOMER_ID' },
      { code: 'INTERACTION_DATE:BEFORE_TICKET', cond: 't.INTERACTION_DATE < tk.CREATION_DATE - INTERVAL 1 MINUTE' },
    ],
  },
  CUSTOMER_TRANSACTION_ITEMS: {
    needs: ['CUSTOMER_TRANSACTIONS'],
    refs: { CUSTOMER_TRANSACTIONS: 'TRANSACTION_ID' },
    joins: ['LEFT JOIN stg_transactions tx ON tx.TRANSACTION_ID = t.TRANSACTION_ID'],
    checks: [{ code: 'TRANSACTION_ID:UNKNOWN_TRANSACTION', cond: 't.TRANSACTION_ID IS NOT NULL AND tx.TRANSACTION_ID IS NULL' }],
  },
  MARKETING_CAMPAIGNS: {
    needs: [],
    joins: [],
    checks: [{ code: 'END_DATE:BEFORE_START', cond: 't.END_DATE < t.START_DATE' }],
  },
  EXTERNAL_CUSTOMER_SENTIMENT: {
    needs: [],
    joins: [],
    checks: [
      {
        code: 'MENTION_COUNT:MISMATCH',
        cond: 't.MENTION_COUNT IS NOT NULL AND t.POSITIVE_MENTIONS IS NOT NULL AND t.NEGATIVE_MENTIONS IS NOT NULL AND t.NEUTRAL_MENTIONS IS NOT NULL AND t.POSITIVE_MENTIONS + t.NEGATIVE_MENTIONS + t.NEUTRAL_MENTIONS <> t.MENTION_COUNT',
      },
    ],
  },
};

for (const [table, set] of Object.entries(CHECKS)) {
  for (const n of set.needs) if (!set.refs?.[n]) throw new Error(`CHECKS.${table}: needs ${n} but names no ref column for it`);
}
