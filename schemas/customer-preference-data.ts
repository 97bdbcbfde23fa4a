import { column as c, date, decimal, varchar, type TableContract } from './contract.ts';

export const CUSTOMER_PREFERENCE_DATA: TableContract = {
  name: 'CUSTOMER_PREFERENCE_DATA',
  sourceSystem: 'Marketing_Automation',
  bronzeDir: 'preferences',
  description: 'Stated and inferred customer preferences (communication, product, brand, category).',
  primaryKey: ['PREFERENCE_ID'],
  eventTime: 'PREFERENCE_DATE',
  streaming: true,
  version: 1,
  columns: [
    c('PREFERENCE_ID', varchar(30), 'Preference id.', { required: true }),
    c('CUSTOMER_ID', varchar(20), 'Customer.', { required: true, references: { table: 'CUSTOMERS', column: 'CUSTOMER_ID' } }),
    c('PREFERENCE_TYPE', varchar(30), 'Kind of preference.', { enum: ['COMMUNICATION', 'PRODUCT', 'BRAND', 'CATEGORY'] }),
    c('PREFERENCE_VALUE', varchar(100), 'Preferred value (a channel, product, brand or category).'),
    c('PREFERENCE_STRENGTH', decimal(3, 2), 'Strength 0-1.', { min: 0, max: 1 }),
    c('PREFERENCE_SOURCE', varchar(30), 'How it was learnt.', { enum: ['EXPLICIT', 'IMPLICIT', 'INFERRED'] }),
    c('PREFERENCE_DATE', date(), 'Date recorded.', { required: true }),
    c('PREFERENCE_STATUS', varchar(20), 'Status.', { enum: ['ACTIVE', 'INACTIVE', 'OVERRIDDEN'] }),
  ],
};
