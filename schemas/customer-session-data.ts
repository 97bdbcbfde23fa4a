import { boolean, column as c, decimal, integer, timestamp, varchar, type TableContract } from './contract.ts';

export const CUSTOMER_SESSION_DATA: TableContract = {
  name: 'CUSTOMER_SESSION_DATA',
  sourceSystem: 'Digital_Analytics',
  bronzeDir: 'sessions',
  description: 'Web and app sessions with conversion outcome and traffic source.',
  primaryKey: ['SESSION_ID'],
  eventTime: 'SESSION_START',
  streaming: true,
  version: 1,
  columns: [
    c('SESSION_ID', varchar(30), 'Session id.', { required: true }),
    c('CUSTOMER_ID', varchar(20), 'Customer (null for anonymous sessions).', { references: { table: 'CUSTOMERS', column: 'CUSTOMER_ID' } }),
    c('SESSION_START', timestamp(), 'Session start.', { required: true }),
    c('SESSION_END', timestamp(), 'Session end.'),
    c('SESSION_DURATION', integer(), 'Duration in seconds.', { min: 0 }),
    c('PAGE_VIEWS', integer(), 'Pages viewed.', { min: 0 }),
    c('BOUNCE_RATE', decimal(3, 2), 'Bounce rate 0-1.', { min: 0, max: 1 }),
    c('CONVERSION_EVENT', boolean(), 'Whether the session converted.'),
    c('CONVERSION_VALUE', decimal(10, 2), 'Value converted.', { min: 0 }),
    c('TRAFFIC_SOURCE', varchar(50), 'Traffic source (organic, paid, email, ...).'),
    c('CAMPAIGN_ID', varchar(20), 'Campaign that drove the session (null when none did).', { references: { table: 'MARKETING_CAMPAIGNS', column: 'CAMPAIGN_ID' } }),
  ],
};
