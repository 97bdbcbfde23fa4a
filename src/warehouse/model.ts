// Every warehouse table, once. DDL, staging, COPY/INSERT and MERGE for DuckDB and Snowflake are rendered from this.
// Column types follow the Gold datasets' Parquet schemas (test/warehouse-model.test.ts checks they agree).
import type { PiiClass } from '../../schemas/contract.ts';
import { getContract } from '../../schemas/index.ts';
import { WINDOWS } from '../gold/dataset.ts';
import { ADDRESS_COLUMNS, SURVIVING_ATTRIBUTES } from '../gold/survivorship.ts';
import { T, type LogicalType, type WarehouseColumn, type WarehouseTable } from './types.ts';

type Spec = [name: string, type: LogicalType, comment: string, pii?: PiiClass];
const cols = (specs: Spec[]): WarehouseColumn[] => specs.map(([name, type, comment, pii]) => (pii && pii !== 'none' ? { name, type, comment, pii } : { name, type, comment }));

const contractPii = (table: string, column: string): PiiClass | undefined => getContract(table).columns.find((c) => c.name === column)?.pii;
const asType = (t: string): LogicalType => ({ VARCHAR: T.varchar, INTEGER: T.integer, DATE: T.date } as Record<string, LogicalType>)[t] ?? T.varchar;

const ID: Spec = ['CUSTOMER360_ID', T.varchar, 'Person id from identity resolution (CUSTOMER360_ID)'];
const AS_OF: Spec = ['AS_OF_DATE', T.date, 'As-of date: only data with event time on or before it was used'];
const DATE_KEY: Spec = ['DATE_KEY', T.integer, 'Date key YYYYMMDD (DIM_DATE)'];

const RULE_TEXT = { trust: 'most trusted source', recent: 'most recent valid value', complete: 'most complete record' };

function survivingColumns(): Spec[] {
  const out: Spec[] = [];
  for (const a of SURVIVING_ATTRIBUTES) {
    out.push([a.name, asType(a.type), `Golden ${a.name} (survivorship: ${RULE_TEXT[a.rule]})`, contractPii('CUSTOMERS', a.name)]);
    if (!a.block) out.push([`${a.name}_SOURCE`, T.varchar, `Source system of the surviving ${a.name}`]);
    else if (a.name === ADDRESS_COLUMNS[0]) out.push([`${a.block}_SOURCE`, T.varchar, `Source system of the surviving ${a.block.toLowerCase()} block`]);
  }
  return out;
}

const windowSpecs = (metric: string, type: LogicalType, what: string): Spec[] =>
  WINDOWS.map((n): Spec => [`${metric}_${n}D`, type, `${what} in the ${n} days up to the as-of date`]);

const DIM_CUSTOMER: WarehouseTable = {
  schema: 'CUSTOMER_360',
  name: 'DIM_CUSTOMER',
  comment: 'Customer 360 profile: one row per person (CUSTOMER360_ID) with golden record, lifetime, RFM, windowed, service and third-party features',
  source: 'customer_profile',
  primaryKey: ['CUSTOMER360_ID'],
  clusterBy: ['CUSTOMER360_ID'],
  strategy: 'snapshot',
  columns: cols([
    ID,
    ...survivingColumns(),
    ['REGISTRATION_DATE', T.date, 'Earliest registration date over the source records'],
    ['LAST_LOGIN_DATE', T.date, 'Latest login date over the source records'],
    ['SOURCE_SYSTEMS', T.varchar, 'Source systems holding a record of the person (comma-separated)'],
    ['SOURCE_RECORD_COUNT', T.bigint, 'Number of source customer records merged into the person'],
    ['IDENTIFIERS', T.varchar, 'All identifiers of the person as SOURCE_SYSTEM:CUSTOMER_ID, |-separated'],
    ['IDENTIFIER_COUNT', T.bigint, 'Number of source identifiers of the person'],
    ['TOTAL_ORDERS', T.bigint, 'Count of COMPLETED PURCHASE transactions'],
    ['TOTAL_REVENUE', T.money, 'Sum of TOTAL_AMOUNT of COMPLETED PURCHASE transactions'],
    ['FIRST_PURCHASE_DATE', T.date, 'Date of the first completed purchase'],
    ['LAST_PURCHASE_DATE', T.date, 'Date of the latest completed purchase'],
    ['DAYS_SINCE_LAST_PURCHASE', T.bigint, 'Days from the latest completed purchase to the as-of date'],
    ['RETURN_COUNT', T.bigint, 'Completed RETURN and REFUND transactions'],
    ['LOYALTY_POINTS_EARNED', T.bigint, 'Loyalty points earned on completed transactions'],
    ['LOYALTY_POINTS_REDEEMED', T.bigint, 'Loyalty points redeemed on completed transactions'],
    ...WINDOWS.flatMap((n): Spec[] => [
      [`ORDERS_${n}D`, T.bigint, `Completed purchases in the ${n} days up to the as-of date`],
      [`SPEND_${n}D`, T.money, `Completed purchase amount in the ${n} days up to the as-of date`],
    ]),
    ...WINDOWS.flatMap((n): Spec[] => [
      [`SESSIONS_${n}D`, T.bigint, `Sessions started in the ${n} days up to the as-of date`],
      [`EVENTS_${n}D`, T.bigint, `Behavioural events in the ${n} days up to the as-of date`],
    ]),
    ...WINDOWS.flatMap((n): Spec[] => [
      [`OPENS_${n}D`, T.bigint, `Campaign messages opened in the ${n} days up to the as-of date`],
      [`CLICKS_${n}D`, T.bigint, `Campaign messages clicked in the ${n} days up to the as-of date`],
      [`TICKETS_${n}D`, T.bigint, `Service tickets created in the ${n} days up to the as-of date`],
    ]),
    ['TOTAL_SESSIONS', T.bigint, 'Sessions up to the as-of date'],
    ['TOTAL_EVENTS', T.bigint, 'Behavioural events up to the as-of date'],
    ['PREFERRED_PURCHASE_CHANNEL', T.varchar, 'Channel with most completed purchases (ties: most recent)'],
    ['PREFERRED_DEVICE', T.varchar, 'Device type with most behavioural events (ties: most recent)'],
    ['TOTAL_TICKETS', T.bigint, 'Service tickets up to the as-of date'],
    ['OPEN_TICKETS', T.bigint, 'Tickets OPEN or IN_PROGRESS'],
    ['AVG_TICKET_SATISFACTION', T.double, 'Average ticket CUSTOMER_SATISFACTION (1-5)'],
    ['AVG_RESOLUTION_MINUTES', T.double, 'Average TOTAL_RESOLUTION_TIME of resolved or closed tickets, minutes'],
    ['SERVICE_INTERACTIONS', T.bigint, 'Service interactions up to the as-of date'],
    ['AVG_SERVICE_SENTIMENT', T.double, 'Average SENTIMENT_SCORE of service interactions (-1..1)'],
    ['AVG_INTERACTION_SATISFACTION', T.double, 'Average SATISFACTION_SCORE of service interactions (1-5)'],
    ['AGE_RANGE', T.varchar, 'Age range from the latest third-party profile holding one', contractPii('EXTERNAL_CUSTOMER_PROFILES', 'AGE_RANGE')],
    ['EDUCATION_LEVEL', T.varchar, 'Education level from the latest third-party profile holding one', contractPii('EXTERNAL_CUSTOMER_PROFILES', 'EDUCATION_LEVEL')],
    ['OCCUPATION', T.varchar, 'Occupation from the latest third-party profile holding one', contractPii('EXTERNAL_CUSTOMER_PROFILES', 'OCCUPATION')],
    ['INCOME_RANGE', T.varchar, 'Income range from the latest third-party profile holding one', contractPii('EXTERNAL_CUSTOMER_PROFILES', 'INCOME_RANGE')],
    ['INTERESTS', T.varchar, 'Interests from the latest third-party profile holding them'],
    ['SOCIAL_MEDIA_ACTIVITY', T.varchar, 'Social media activity level (third party)'],
    ['INFLUENCE_SCORE', T.double, 'Highest third-party influence score (0..1)'],
    ['EXTERNAL_SENTIMENT_SCORE', T.double, 'Average third-party sentiment score (-1..1)'],
    ['EXTERNAL_MENTIONS', T.bigint, 'Third-party mentions'],
    ['AVG_ORDER_VALUE', T.money, 'TOTAL_REVENUE / TOTAL_ORDERS'],
    ['RETURN_RATE', T.double, 'RETURN_COUNT / TOTAL_ORDERS'],
    ['RFM_RECENCY_SCORE', T.integer, 'Recency score 1-5 among purchasers (5 = most recent)'],
    ['RFM_FREQUENCY_SCORE', T.integer, 'Frequency score 1-5 among purchasers (5 = most orders)'],
    ['RFM_MONETARY_SCORE', T.integer, 'Monetary score 1-5 among purchasers (5 = highest revenue)'],
    ['RFM_SCORE', T.varchar, 'R, F and M scores as three digits'],
    ['RFM_SEGMENT', T.varchar, 'Named RFM segment (Champions, Loyal Customers, ..., No Purchases)'],
    ['ENGAGEMENT_SCORE', T.double, 'Engagement 0-100 over 30 days: sessions 40%, clicks 30%, opens 20%, orders 10%'],
    AS_OF,
  ]),
};

const t = (o: Omit<WarehouseTable, 'columns'> & { columns: Spec[] }): WarehouseTable => ({ ...o, columns: cols(o.columns) });

export const WAREHOUSE_TABLES: readonly WarehouseTable[] = [
  DIM_CUSTOMER,
  t({
    schema: 'CUSTOMER_360', name: 'CUSTOMER_IDENTITY_MAP', source: 'customer_identity_map', strategy: 'snapshot',
    comment: 'One row per source identifier (SOURCE_SYSTEM, CUSTOMER_ID) with the person it belongs to',
    primaryKey: ['SOURCE_SYSTEM', 'CUSTOMER_ID'], clusterBy: ['CUSTOMER360_ID'],
    columns: [['SOURCE_SYSTEM', T.varchar, 'Source system of the identifier'], ['CUSTOMER_ID', T.varchar, 'Customer id in the source system'], ID, AS_OF],
  }),
  t({
    schema: 'CUSTOMER_360', name: 'FACT_TRANSACTIONS', source: 'fact_transactions', strategy: 'snapshot',
    comment: 'Transactions on or before the as-of date, one row each', primaryKey: ['TRANSACTION_ID'], clusterBy: ['DATE_KEY'],
    columns: [
      ['TRANSACTION_ID', T.varchar, 'Transaction id'], ID, ['CUSTOMER_ID', T.varchar, 'Customer id in the source system'], DATE_KEY,
      ['TRANSACTION_DATE', T.timestamp, 'Transaction time (UTC)'], ['CHANNEL', T.varchar, 'Sales channel'],
      ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint (DIM_TOUCHPOINT)'], ['TRANSACTION_TYPE', T.varchar, 'PURCHASE, RETURN, REFUND or EXCHANGE'],
      ['TRANSACTION_STATUS', T.varchar, 'COMPLETED, FAILED, CANCELLED or PENDING'], ['TOTAL_AMOUNT', T.money, 'Total amount'],
      ['TAX_AMOUNT', T.money, 'Tax amount'], ['SHIPPING_AMOUNT', T.money, 'Shipping amount'], ['DISCOUNT_AMOUNT', T.money, 'Discount amount'],
      ['CURRENCY_CODE', T.varchar, 'ISO currency code'], ['PAYMENT_METHOD', T.varchar, 'Payment method'], ['STORE_ID', T.varchar, 'Store id'],
      ['PROMOTION_CODE', T.varchar, 'Promotion code'], ['LOYALTY_POINTS_EARNED', T.integer, 'Loyalty points earned'],
      ['LOYALTY_POINTS_REDEEMED', T.integer, 'Loyalty points redeemed'], ['ITEM_COUNT', T.bigint, 'Line items'], ['UNITS', T.bigint, 'Units over the line items'],
      ['IS_COMPLETED_PURCHASE', T.boolean, 'A COMPLETED PURCHASE (counts in orders and revenue)'],
    ],
  }),
  t({
    schema: 'CUSTOMER_360', name: 'FACT_CUSTOMER_INTERACTIONS', source: 'fact_customer_interactions', strategy: 'snapshot',
    comment: 'Marketing engagements and service interactions of people, one row each', primaryKey: ['INTERACTION_KEY'], clusterBy: ['DATE_KEY'],
    columns: [
      ['INTERACTION_KEY', T.varchar, 'INTERACTION_SOURCE:INTERACTION_ID'], ['INTERACTION_SOURCE', T.varchar, 'ENGAGEMENT or SERVICE'],
      ['INTERACTION_ID', T.varchar, 'ENGAGEMENT_ID or INTERACTION_ID in the source'], ID, DATE_KEY, ['INTERACTION_AT', T.timestamp, 'Interaction time (UTC)'],
      ['CHANNEL', T.varchar, 'Engagement type or service interaction type'], ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint (DIM_TOUCHPOINT)'],
      ['INTERACTION_TYPE', T.varchar, 'Engagement action, or service category'], ['OUTCOME', T.varchar, 'Engagement status or service outcome'],
      ['CAMPAIGN_ID', T.varchar, 'Campaign of an engagement'], ['TICKET_ID', T.varchar, 'Ticket of a service interaction'],
      ['SATISFACTION_SCORE', T.integer, 'Service satisfaction 1-5'], ['SENTIMENT_SCORE', T.double, 'Service sentiment -1..1'],
    ],
  }),
  t({
    schema: 'CUSTOMER_360', name: 'DIM_PRODUCT', source: 'dim_product', strategy: 'snapshot',
    comment: 'Products sold on or before the as-of date, with latest attributes and sales statistics', primaryKey: ['PRODUCT_ID'], clusterBy: ['CATEGORY'],
    columns: [
      ['PRODUCT_ID', T.varchar, 'Product id'], ['PRODUCT_NAME', T.varchar, 'Latest product name'], ['CATEGORY', T.varchar, 'Latest category'],
      ['SUBCATEGORY', T.varchar, 'Latest subcategory'], ['BRAND', T.varchar, 'Latest brand'], ['SKU', T.varchar, 'Latest SKU'],
      ['AVG_UNIT_PRICE', T.money, 'Average unit price'], ['UNITS_SOLD', T.bigint, 'Units on SOLD lines'], ['REVENUE', T.money, 'TOTAL_PRICE on SOLD lines'],
      ['RETURN_RATE', T.double, 'Share of lines RETURNED'], ['AVG_RATING', T.double, 'Average item rating'],
      ['FIRST_SOLD_DATE', T.date, 'First sale date'], ['LAST_SOLD_DATE', T.date, 'Latest sale date'],
    ],
  }),
  t({
    schema: 'CUSTOMER_360', name: 'DIM_DATE', source: 'dim_date', strategy: 'snapshot',
    comment: 'Calendar from the first event date to the as-of date', primaryKey: ['DATE_KEY'], clusterBy: ['DATE_KEY'],
    columns: [
      DATE_KEY, ['CALENDAR_DATE', T.date, 'Date'], ['YEAR', T.integer, 'Year'], ['QUARTER', T.integer, 'Quarter 1-4'], ['MONTH', T.integer, 'Month 1-12'],
      ['MONTH_NAME', T.varchar, 'Month name'], ['ISO_WEEK', T.integer, 'ISO week number'], ['DAY_OF_MONTH', T.integer, 'Day of month'],
      ['ISO_DAY_OF_WEEK', T.integer, 'ISO day of week (1 = Monday)'], ['DAY_NAME', T.varchar, 'Day name'], ['IS_WEEKEND', T.boolean, 'Saturday or Sunday'],
      ['WEEK_START', T.date, 'Monday of the week'], ['MONTH_START', T.date, 'First day of the month'],
    ],
  }),
  t({
    schema: 'CUSTOMER_360', name: 'AGG_SERVICE_SUMMARY', source: 'service_summary', strategy: 'snapshot',
    comment: 'Service tickets by category and priority: volumes, response and resolution times, satisfaction, sentiment',
    primaryKey: ['TICKET_CATEGORY', 'TICKET_PRIORITY'], clusterBy: ['TICKET_CATEGORY'],
    columns: [
      ['TICKET_CATEGORY', T.varchar, 'Ticket category'], ['TICKET_PRIORITY', T.varchar, 'Ticket priority'], ['TICKETS', T.bigint, 'Tickets'],
      ['OPEN_TICKETS', T.bigint, 'Tickets OPEN or IN_PROGRESS'], ['RESOLVED_TICKETS', T.bigint, 'Tickets RESOLVED or CLOSED'],
      ['AVG_FIRST_RESPONSE_MINUTES', T.double, 'Average first response time, minutes'], ['MEDIAN_FIRST_RESPONSE_MINUTES', T.double, 'Median first response time, minutes'],
      ['AVG_RESOLUTION_MINUTES', T.double, 'Average resolution time of resolved tickets, minutes'], ['AVG_SATISFACTION', T.double, 'Average satisfaction 1-5'],
      ['AVG_SENTIMENT', T.double, 'Average sentiment of the tickets\' interactions'], ['INTERACTIONS', T.bigint, 'Service interactions on the tickets'],
      ['CUSTOMERS', T.bigint, 'Distinct people with tickets'], AS_OF,
    ],
  }),
  t({
    schema: 'CUSTOMER_360', name: 'CUSTOMER_RISK_SCORES', source: 'risk_scores', strategy: 'partition',
    comment: 'Churn risk and CLV predictions per person and as-of date (from the intelligence models)', primaryKey: ['CUSTOMER360_ID', 'AS_OF_DATE'], clusterBy: ['AS_OF_DATE'],
    columns: [
      ID, AS_OF, ['CHURN_RISK', T.double, 'Probability of no purchase within the horizon (0..1)'], ['PREDICTED_PURCHASES', T.double, 'Expected purchases within the horizon'],
      ['PREDICTED_CLV', T.double, 'Expected spend within the horizon'], ['P_ALIVE', T.double, 'Probability the customer is still active (BG/NBD)'],
      ['CHURN_MODEL_VERSION', T.varchar, 'Churn model version (MODEL_REGISTRY)'], ['CLV_MODEL_VERSION', T.varchar, 'CLV model version (MODEL_REGISTRY)'],
    ],
  }),
  t({
    schema: 'CUSTOMER_360', name: 'CUSTOMER_SEGMENTS', source: 'customer_segments', strategy: 'partition',
    comment: 'Behavioural segment of each person per as-of date (from the segmentation model)', primaryKey: ['CUSTOMER360_ID', 'AS_OF_DATE'], clusterBy: ['AS_OF_DATE'],
    columns: [ID, AS_OF, ['SEGMENT_ID', T.integer, 'Segment number'], ['SEGMENT_LABEL', T.varchar, 'Stable segment label'], ['MODEL_VERSION', T.varchar, 'Segmentation model version']],
  }),
  t({
    schema: 'CUSTOMER_360', name: 'MODEL_REGISTRY', source: 'model_registry', strategy: 'append',
    comment: 'Every trained model version with parameters, training window, feature snapshot and metrics', primaryKey: ['MODEL_NAME', 'MODEL_VERSION'], clusterBy: ['MODEL_NAME'],
    columns: [
      ['MODEL_NAME', T.varchar, 'Model name'], ['MODEL_VERSION', T.varchar, 'Model version'], ['MODEL_TYPE', T.varchar, 'Model type'],
      ['TRAINED_AT', T.timestamp, 'Training time (UTC)'], ['TRAINING_WINDOW_START', T.date, 'First day of training data'],
      ['TRAINING_WINDOW_END', T.date, 'Last day of training data'], ['FEATURE_SNAPSHOT_VERSION', T.varchar, 'Feature snapshot used'],
      ['PARAMETERS_JSON', T.varchar, 'Fitted parameters (JSON)'], ['METRICS_JSON', T.varchar, 'Evaluation metrics (JSON)'],
    ],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'FACT_BEHAVIORAL_EVENTS', source: 'fact_behavioral_events', strategy: 'snapshot',
    comment: 'Behavioural events (page views, clicks, scrolls, searches, cart adds) on or before the as-of date', primaryKey: ['EVENT_ID'], clusterBy: ['DATE_KEY'],
    columns: [
      ['EVENT_ID', T.varchar, 'Event id'], ID, ['SESSION_ID', T.varchar, 'Session (DIM_SESSION)'], DATE_KEY, ['TIME_KEY', T.integer, 'Time of day HHMM (DIM_TIME)'],
      ['EVENT_AT', T.timestamp, 'Event time (UTC)'], ['EVENT_TYPE', T.varchar, 'PAGE_VIEW, CLICK, SCROLL, SEARCH or CART_ADD'],
      ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint (DIM_TOUCHPOINT)'], ['PAGE_URL', T.varchar, 'Page URL'], ['PRODUCT_ID', T.varchar, 'Product viewed'],
      ['CATEGORY_VIEWED', T.varchar, 'Category viewed'], ['TIME_ON_PAGE', T.integer, 'Seconds on page'], ['SCROLL_DEPTH', T.double, 'Scroll depth 0..1'],
      ['DEVICE_TYPE', T.varchar, 'DESKTOP, MOBILE or TABLET'], ['BROWSER', T.varchar, 'Browser'], ['LOCATION_COUNTRY', T.varchar, 'Country'],
    ],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'DIM_SESSION', source: 'dim_session', strategy: 'snapshot',
    comment: 'Sessions with duration, pages, events, bounce and conversion', primaryKey: ['SESSION_ID'], clusterBy: ['DATE_KEY'],
    columns: [
      ['SESSION_ID', T.varchar, 'Session id'], ID, DATE_KEY, ['SESSION_START', T.timestamp, 'Start (UTC)'], ['SESSION_END', T.timestamp, 'End (UTC)'],
      ['DURATION_SECONDS', T.integer, 'Duration in seconds'], ['PAGE_VIEWS', T.bigint, 'Page views'], ['EVENT_COUNT', T.bigint, 'Behavioural events in the session'],
      ['CART_ADDS', T.bigint, 'Cart adds in the session'], ['IS_BOUNCE', T.boolean, 'At most one page view'], ['CONVERTED', T.boolean, 'The session converted'],
      ['CONVERSION_VALUE', T.money, 'Conversion value'], ['TRAFFIC_SOURCE', T.varchar, 'Traffic source'], ['CAMPAIGN_ID', T.varchar, 'Campaign that brought the session'],
      ['DEVICE_TYPE', T.varchar, 'Device of the first event'],
    ],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'DIM_TOUCHPOINT', source: 'dim_touchpoint', strategy: 'snapshot',
    comment: 'Touchpoints (DIGITAL_<device>, MESSAGE_<type>, COMMERCE_<channel>, SERVICE_<type>) with journey statistics',
    primaryKey: ['TOUCHPOINT_KEY'], clusterBy: ['TOUCHPOINT_TYPE'],
    columns: [
      ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint key'], ['TOUCHPOINT_TYPE', T.varchar, 'DIGITAL, MESSAGE, COMMERCE or SERVICE'], ['CHANNEL', T.varchar, 'Device, message type, sales channel or service type'],
      ['TOUCHES', T.bigint, 'Touches'], ['CUSTOMERS', T.bigint, 'People reached'], ['FIRST_SEEN_DATE', T.date, 'First touch'], ['LAST_SEEN_DATE', T.date, 'Latest touch'],
      ['ASSISTED_PURCHASES', T.bigint, 'Completed purchases whose buyer used the touchpoint in the 7 days up to the purchase'],
    ],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'DIM_TIME', source: 'dim_time', strategy: 'snapshot',
    comment: 'Minutes of the day', primaryKey: ['TIME_KEY'], clusterBy: ['TIME_KEY'],
    columns: [['TIME_KEY', T.integer, 'HHMM'], ['HOUR', T.integer, 'Hour 0-23'], ['MINUTE', T.integer, 'Minute 0-59'], ['DAY_PART', T.varchar, 'NIGHT, MORNING, AFTERNOON or EVENING']],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'AGG_CUSTOMER_ACTIVITY', source: 'agg_customer_activity', strategy: 'snapshot',
    comment: 'Daily, weekly and monthly activity per person', primaryKey: ['GRAIN', 'PERIOD_START', 'CUSTOMER360_ID'], clusterBy: ['GRAIN', 'PERIOD_START'],
    columns: [
      ['GRAIN', T.varchar, 'DAY, WEEK (ISO, from Monday) or MONTH'], ['PERIOD_START', T.date, 'First day of the period'], ID,
      ['EVENTS', T.bigint, 'Behavioural events'], ['PAGE_VIEWS', T.bigint, 'Page views'], ['CART_ADDS', T.bigint, 'Cart adds'], ['SEARCHES', T.bigint, 'Searches'],
      ['SESSIONS', T.bigint, 'Sessions'], ['ORDERS', T.bigint, 'Completed purchases'], ['SPEND', T.money, 'Completed purchase amount'],
      ['OPENS', T.bigint, 'Messages opened'], ['CLICKS', T.bigint, 'Messages clicked'], ['TICKETS', T.bigint, 'Tickets created'],
    ],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'AGG_TOUCHPOINT_ACTIVITY', source: 'agg_touchpoint_activity', strategy: 'snapshot',
    comment: 'Daily, weekly and monthly touches and people reached per touchpoint', primaryKey: ['GRAIN', 'PERIOD_START', 'TOUCHPOINT_KEY'], clusterBy: ['GRAIN', 'PERIOD_START'],
    columns: [['GRAIN', T.varchar, 'DAY, WEEK or MONTH'], ['PERIOD_START', T.date, 'First day of the period'], ['TOUCHPOINT_KEY', T.varchar, 'Touchpoint'], ['TOUCHES', T.bigint, 'Touches'], ['CUSTOMERS', T.bigint, 'People reached']],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'AGG_FUNNEL_DAILY', source: 'agg_funnel_daily', strategy: 'snapshot',
    comment: 'Daily view -> cart -> purchase funnel over people (stages nested within the day)', primaryKey: ['CALENDAR_DATE'], clusterBy: ['CALENDAR_DATE'],
    columns: [
      ['CALENDAR_DATE', T.date, 'Day'], DATE_KEY, ['VIEWERS', T.bigint, 'People with a page view'], ['CART_ADDERS', T.bigint, 'Viewers who added to cart'],
      ['PURCHASERS', T.bigint, 'Cart adders who completed a purchase'], ['VIEW_TO_CART_RATE', T.double, 'CART_ADDERS / VIEWERS'],
      ['CART_TO_PURCHASE_RATE', T.double, 'PURCHASERS / CART_ADDERS'], ['VIEW_TO_PURCHASE_RATE', T.double, 'PURCHASERS / VIEWERS'],
    ],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'AGG_CAMPAIGN_CHANNEL', source: 'campaign_channel_performance', strategy: 'snapshot',
    comment: 'Per campaign and channel: people sent, delivered, opened, clicked and converted, rates and attributed revenue',
    primaryKey: ['CAMPAIGN_ID', 'CHANNEL'], clusterBy: ['CAMPAIGN_ID'],
    columns: [
      ['CAMPAIGN_ID', T.varchar, 'Campaign'], ['CHANNEL', T.varchar, 'Engagement type'], ['CAMPAIGN_NAME', T.varchar, 'Campaign name'],
      ['SENT', T.bigint, 'People sent at least'], ['DELIVERED', T.bigint, 'People delivered at least'], ['OPENED', T.bigint, 'People who opened or clicked'],
      ['CLICKED', T.bigint, 'People who clicked'], ['UNSUBSCRIBED', T.bigint, 'People who unsubscribed'], ['CONVERTED', T.bigint, 'People with a last-touch conversion'],
      ['DELIVERY_RATE', T.double, 'DELIVERED / SENT'], ['OPEN_RATE', T.double, 'OPENED / DELIVERED'], ['CLICK_TO_OPEN_RATE', T.double, 'CLICKED / OPENED'],
      ['CLICK_RATE', T.double, 'CLICKED / DELIVERED'], ['CONVERSION_RATE', T.double, 'CONVERTED / SENT'],
      ['CONVERSIONS_LAST_TOUCH', T.bigint, 'Conversions credited by last touch'], ['REVENUE_LAST_TOUCH', T.double, 'Revenue credited by last touch'],
      ['CONVERSIONS_LINEAR', T.double, 'Conversions credited linearly'], ['REVENUE_LINEAR', T.double, 'Revenue credited linearly'], AS_OF,
    ],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'AGG_CAMPAIGN_ROI', source: 'campaign_roi', strategy: 'snapshot',
    comment: 'Per campaign: budget, spend, attributed conversions and revenue, ROI', primaryKey: ['CAMPAIGN_ID'], clusterBy: ['CAMPAIGN_ID'],
    columns: [
      ['CAMPAIGN_ID', T.varchar, 'Campaign'], ['CAMPAIGN_NAME', T.varchar, 'Name'], ['CAMPAIGN_TYPE', T.varchar, 'Type'], ['CAMPAIGN_STATUS', T.varchar, 'Status'],
      ['START_DATE', T.date, 'Start'], ['END_DATE', T.date, 'End'], ['BUDGET', T.money, 'Budget'], ['SPENT_AMOUNT', T.money, 'Spent'],
      ['BUDGET_UTILISATION', T.double, 'SPENT_AMOUNT / BUDGET'], ['CONVERSIONS_LAST_TOUCH', T.bigint, 'Conversions credited by last touch'],
      ['REVENUE_LAST_TOUCH', T.double, 'Revenue credited by last touch'], ['CONVERSIONS_LINEAR', T.double, 'Conversions credited linearly'],
      ['REVENUE_LINEAR', T.double, 'Revenue credited linearly'], ['ROI_LAST_TOUCH', T.double, '(REVENUE_LAST_TOUCH - SPENT_AMOUNT) / SPENT_AMOUNT'],
      ['ROI_LINEAR', T.double, '(REVENUE_LINEAR - SPENT_AMOUNT) / SPENT_AMOUNT'], ['COST_PER_CONVERSION', T.double, 'SPENT_AMOUNT / CONVERSIONS_LAST_TOUCH'], AS_OF,
    ],
  }),
  t({
    schema: 'CUSTOMER_BEHAVIOR', name: 'FACT_CAMPAIGN_ATTRIBUTION', source: 'campaign_attribution', strategy: 'snapshot',
    comment: 'Conversion credit per campaign touch and attribution model (LAST_TOUCH, LINEAR)', primaryKey: ['TRANSACTION_ID', 'MODEL', 'ENGAGEMENT_ID'], clusterBy: ['CAMPAIGN_ID'],
    columns: [
      ['TRANSACTION_ID', T.varchar, 'Converting purchase'], ID, ['CONVERSION_AT', T.timestamp, 'Purchase time (UTC)'], ['CONVERSION_AMOUNT', T.double, 'Purchase amount'],
      ['MODEL', T.varchar, 'LAST_TOUCH or LINEAR'], ['ENGAGEMENT_ID', T.varchar, 'Credited touch'], ['CAMPAIGN_ID', T.varchar, 'Campaign of the touch'],
      ['CHANNEL', T.varchar, 'Engagement type of the touch'], ['TOUCH_AT', T.timestamp, 'Touch time (UTC)'], ['CREDIT', T.double, 'Share of the conversion'],
      ['REVENUE_CREDIT', T.double, 'CREDIT x CONVERSION_AMOUNT'], ['WINDOW_DAYS', T.integer, 'Attribution window in days'],
    ],
  }),
  t({
    schema: 'RECOMMENDATIONS', name: 'PRODUCT_RECOMMENDATIONS', source: 'product_recommendations', strategy: 'partition',
    comment: 'Top-N product recommendations per person, algorithm and as-of date (1 = best)', primaryKey: ['CUSTOMER360_ID', 'AS_OF_DATE', 'ALGORITHM', 'RANK'], clusterBy: ['AS_OF_DATE', 'CUSTOMER360_ID'],
    columns: [
      ID, ['PRODUCT_ID', T.varchar, 'Recommended product'], ['RANK', T.integer, 'Rank, 1 = best'], ['SCORE', T.double, 'Score'], ['REASON', T.varchar, 'Why it was recommended'],
      ['ALGORITHM', T.varchar, 'Algorithm (e.g. HYBRID, POPULARITY, REPEAT_PURCHASE)'], ['MODEL_VERSION', T.varchar, 'Model version (MODEL_REGISTRY)'], AS_OF,
    ],
  }),
  t({
    schema: 'RECOMMENDATIONS', name: 'DIM_RECOMMENDATION', source: 'dim_recommendation', strategy: 'snapshot',
    comment: 'Recommendation algorithms and model versions with coverage and score statistics', primaryKey: ['RECOMMENDATION_KEY'], clusterBy: ['ALGORITHM'],
    columns: [
      ['RECOMMENDATION_KEY', T.varchar, 'ALGORITHM:MODEL_VERSION'], ['ALGORITHM', T.varchar, 'Algorithm'], ['MODEL_VERSION', T.varchar, 'Model version'],
      ['MODEL_NAME', T.varchar, 'Model name (MODEL_REGISTRY)'], ['MODEL_TYPE', T.varchar, 'Model type (MODEL_REGISTRY)'], ['CUSTOMERS', T.bigint, 'People with recommendations'],
      ['RECOMMENDATIONS', T.bigint, 'Recommendations'], ['DISTINCT_PRODUCTS', T.bigint, 'Distinct products recommended'], ['AVG_SCORE', T.double, 'Average score'],
      ['MAX_RANK', T.integer, 'Largest rank (list length)'], AS_OF,
    ],
  }),
  t({
    schema: 'RECOMMENDATIONS', name: 'DIM_CONTENT', source: 'dim_content', strategy: 'snapshot',
    comment: 'Content people see (products and pages) with views, viewers, cart adds and purchases', primaryKey: ['CONTENT_KEY'], clusterBy: ['CONTENT_TYPE'],
    columns: [
      ['CONTENT_KEY', T.varchar, 'CONTENT_TYPE:CONTENT_ID'], ['CONTENT_TYPE', T.varchar, 'PRODUCT or PAGE'], ['CONTENT_ID', T.varchar, 'Product id or page URL'],
      ['TITLE', T.varchar, 'Product name or page title'], ['CATEGORY', T.varchar, 'Category'], ['BRAND', T.varchar, 'Brand (products)'],
      ['VIEWS', T.bigint, 'Page views'], ['VIEWERS', T.bigint, 'Distinct viewers'], ['CART_ADDS', T.bigint, 'Cart adds'], ['PURCHASES', T.bigint, 'Completed purchases containing it'],
    ],
  }),
  t({
    schema: 'RECOMMENDATIONS', name: 'FACT_PERSONALIZATION_EVENTS', source: 'fact_personalization_events', strategy: 'snapshot',
    comment: 'Views, clicks, cart adds and purchases of products recommended to the person in the latest earlier recommendation run',
    primaryKey: ['PERSONALIZATION_EVENT_KEY'], clusterBy: ['DATE_KEY'],
    columns: [
      ['PERSONALIZATION_EVENT_KEY', T.varchar, 'Source event key and algorithm'], ID, ['PRODUCT_ID', T.varchar, 'Product'],
      ['ACTION', T.varchar, 'PAGE_VIEW, CLICK, CART_ADD or PURCHASE'], ['EVENT_AT', T.timestamp, 'Event time (UTC)'], DATE_KEY,
      ['RECOMMENDED_AS_OF', T.date, 'As-of date of the recommendation run'], ['ALGORITHM', T.varchar, 'Algorithm'], ['MODEL_VERSION', T.varchar, 'Model version'],
      ['RANK', T.integer, 'Rank the product had'], ['DAYS_AFTER_RECOMMENDATION', T.bigint, 'Days from the run to the event'], ['VALUE', T.double, 'Purchase line amount'],
    ],
  }),
];

export function getTable(schema: string, name: string): WarehouseTable {
  const found = WAREHOUSE_TABLES.find((x) => x.schema === schema && x.name === name);
  if (!found) throw new Error(`Unknown warehouse table ${schema}.${name}`);
  return found;
}
