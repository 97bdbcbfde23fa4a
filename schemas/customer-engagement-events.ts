import { column as c, integer, text, timestamp, varchar, type TableContract } from './contract.ts';

export const CUSTOMER_ENGAGEMENT_EVENTS: TableContract = {
  name: 'CUSTOMER_ENGAGEMENT_EVENTS',
  sourceSystem: 'Marketing_Automation',
  bronzeDir: 'engagement',
  description: 'Campaign messages and the customer responses to them (email, SMS, push, social, in-app).',
  primaryKey: ['ENGAGEMENT_ID'],
  eventTime: 'ENGAGEMENT_DATE',
  streaming: true,
  version: 1,
  columns: [
    c('ENGAGEMENT_ID', varchar(30), 'Engagement event id.', { required: true }),
    c('CUSTOMER_ID', varchar(20), 'Customer engaged.', { required: true, references: { table: 'CUSTOMERS', column: 'CUSTOMER_ID' } }),
    c('ENGAGEMENT_TYPE', varchar(30), 'Channel of the message.', { enum: ['EMAIL', 'SMS', 'PUSH', 'SOCIAL', 'IN_APP'] }),
    c('ENGAGEMENT_DATE', timestamp(), 'Time of the engagement event.', { required: true }),
    c('CAMPAIGN_ID', varchar(20), 'Campaign.', { required: true, references: { table: 'MARKETING_CAMPAIGNS', column: 'CAMPAIGN_ID' } }),
    c('CAMPAIGN_NAME', varchar(100), 'Campaign name.'),
    c('MESSAGE_SUBJECT', varchar(200), 'Message subject.'),
    c('MESSAGE_CONTENT', text(), 'Message body.', { pii: 'free_text' }),
    c('ENGAGEMENT_ACTION', varchar(30), 'Funnel action.', { enum: ['SENT', 'DELIVERED', 'OPENED', 'CLICKED', 'UNSUBSCRIBED'] }),
    c('ENGAGEMENT_STATUS', varchar(20), 'Delivery status.', { enum: ['SUCCESS', 'FAILED', 'BOUNCED'] }),
    c('DEVICE_TYPE', varchar(20), 'Device type.'),
    c('LOCATION_COUNTRY', varchar(3), 'Country code.', { format: 'country_code' }),
    c('TIME_TO_OPEN', integer(), 'Minutes from send to open.', { min: 0 }),
    c('TIME_TO_CLICK', integer(), 'Minutes from send to click.', { min: 0 }),
    c('CONVERSION_RESULT', varchar(50), 'Conversion outcome (e.g. PURCHASE) when the engagement converted.'),
  ],
};
