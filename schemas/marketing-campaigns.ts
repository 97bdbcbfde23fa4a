import { column as c, date, decimal, varchar, type TableContract } from './contract.ts';

export const MARKETING_CAMPAIGNS: TableContract = {
  name: 'MARKETING_CAMPAIGNS',
  sourceSystem: 'Marketing_Automation',
  bronzeDir: 'campaigns',
  description: 'Marketing campaigns with budget and spend.',
  primaryKey: ['CAMPAIGN_ID'],
  eventTime: 'START_DATE',
  streaming: false,
  version: 1,
  columns: [
    c('CAMPAIGN_ID', varchar(20), 'Campaign id.', { required: true }),
    c('CAMPAIGN_NAME', varchar(100), 'Name.'),
    c('CAMPAIGN_TYPE', varchar(30), 'Type (EMAIL, SMS, PUSH, SOCIAL, IN_APP, MULTI_CHANNEL, ...).'),
    c('START_DATE', date(), 'Start date.', { required: true }),
    c('END_DATE', date(), 'End date.'),
    c('BUDGET', decimal(12, 2), 'Budget.', { min: 0 }),
    c('SPENT_AMOUNT', decimal(12, 2), 'Amount spent.', { min: 0 }),
    c('TARGET_AUDIENCE', varchar(100), 'Target audience.'),
    c('CAMPAIGN_STATUS', varchar(20), 'Status (PLANNED, ACTIVE, COMPLETED, PAUSED, CANCELLED).'),
    c('CREATED_BY', varchar(50), 'Author.', { pii: 'name' }),
  ],
};
