import { column as c, integer, text, timestamp, varchar, type TableContract } from './contract.ts';

/** Collected by `c360 collect` from group calls (not one of the seed's source tables). */
export const ACCOUNT_MEMBERSHIP: TableContract = {
  name: 'ACCOUNT_MEMBERSHIP',
  sourceSystem: 'Segment',
  bronzeDir: 'account_membership',
  description: 'Group calls: a person (userId, else anonymousId) belongs to an account (groupId: a company, organisation, team), with the account traits as sent. The latest call per person and account wins.',
  primaryKey: ['MEMBERSHIP_ID'],
  eventTime: 'UPDATED_AT',
  streaming: true,
  version: 1,
  columns: [
    c('MEMBERSHIP_ID', varchar(40), "'M' + 32 hex digits of sha256(TENANT_ID, SOURCE_SYSTEM, CUSTOMER_ID or ANONYMOUS_ID, GROUP_ID).", { required: true }),
    c('TENANT_ID', varchar(50), 'Tenant of the write key.', { required: true }),
    c('SOURCE_SYSTEM', varchar(50), 'Source of the ids (the write key\'s source).', { required: true }),
    c('GROUP_ID', varchar(100), 'The account (groupId).', { required: true }),
    c('CUSTOMER_ID', varchar(100), 'The member\'s userId (null when only an anonymousId was sent).', { references: { table: 'CUSTOMERS', column: 'CUSTOMER_ID' } }),
    c('ANONYMOUS_ID', varchar(100), 'The member\'s anonymousId.'),
    c('GROUP_NAME', varchar(200), 'traits.name.'),
    c('INDUSTRY', varchar(100), 'traits.industry.'),
    c('EMPLOYEES', integer(), 'traits.employees (when a whole number).', { min: 0 }),
    c('PLAN', varchar(50), 'traits.plan.'),
    c('WEBSITE', varchar(200), 'traits.website.'),
    c('GROUP_TRAITS', text(), 'All traits as sent (JSON object).'),
    c('MESSAGE_ID', varchar(100), 'messageId of the group call.', { required: true }),
    c('UPDATED_AT', timestamp(), 'Time of the group call (clock-skew corrected, UTC).', { required: true }),
  ],
};
