import { column as c, date, decimal, integer, text, varchar, type TableContract } from './contract.ts';

export const EXTERNAL_CUSTOMER_SENTIMENT: TableContract = {
  name: 'EXTERNAL_CUSTOMER_SENTIMENT',
  sourceSystem: 'Third_Party',
  bronzeDir: 'external/sentiment',
  description: 'Social-media sentiment about the brand, products, service and competitors per customer.',
  primaryKey: ['SENTIMENT_ID'],
  eventTime: 'SENTIMENT_DATE',
  streaming: false,
  version: 1,
  columns: [
    c('SENTIMENT_ID', varchar(30), 'Sentiment record id.', { required: true }),
    c('CUSTOMER_ID', varchar(20), 'Customer.', { required: true, references: { table: 'CUSTOMERS', column: 'CUSTOMER_ID' } }),
    c('DATA_SOURCE', varchar(30), 'Provider.'),
    c('SENTIMENT_DATE', date(), 'Date measured.', { required: true }),
    c('SENTIMENT_TYPE', varchar(30), 'What the sentiment is about.', { enum: ['BRAND', 'PRODUCT', 'SERVICE', 'COMPETITOR'] }),
    c('SENTIMENT_SCORE', decimal(3, 2), 'Sentiment -1 to 1.', { min: -1, max: 1 }),
    c('SENTIMENT_MAGNITUDE', decimal(3, 2), 'Magnitude 0-1.', { min: 0, max: 1 }),
    c('MENTION_COUNT', integer(), 'Mentions.', { min: 0 }),
    c('POSITIVE_MENTIONS', integer(), 'Positive mentions.', { min: 0 }),
    c('NEGATIVE_MENTIONS', integer(), 'Negative mentions.', { min: 0 }),
    c('NEUTRAL_MENTIONS', integer(), 'Neutral mentions.', { min: 0 }),
    c('KEYWORDS', varchar(500), 'Keywords as a JSON array of strings.', { format: 'json_array' }),
    c('CONTEXT', text(), 'Context text.', { pii: 'free_text' }),
  ],
};
