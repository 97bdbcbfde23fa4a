import { column as c, integer, timestamp, varchar, type TableContract } from './contract.ts';

export const CUSTOMER_SERVICE_TICKETS: TableContract = {
  name: 'CUSTOMER_SERVICE_TICKETS',
  sourceSystem: 'Support_Systems',
  bronzeDir: 'tickets',
  description: 'Support tickets with response and resolution times and satisfaction.',
  primaryKey: ['TICKET_ID'],
  eventTime: 'CREATION_DATE',
  streaming: false,
  version: 1,
  columns: [
    c('TICKET_ID', varchar(30), 'Ticket id.', { required: true }),
    c('CUSTOMER_ID', varchar(20), 'Customer.', { required: true, references: { table: 'CUSTOMERS', column: 'CUSTOMER_ID' } }),
    c('TICKET_STATUS', varchar(20), 'Status.', { enum: ['OPEN', 'IN_PROGRESS', 'RESOLVED', 'CLOSED'] }),
    c('TICKET_PRIORITY', varchar(10), 'Priority.', { enum: ['LOW', 'MEDIUM', 'HIGH', 'URGENT'] }),
    c('CREATION_DATE', timestamp(), 'Time the ticket was opened.', { required: true }),
    c('RESOLUTION_DATE', timestamp(), 'Time it was resolved.'),
    c('FIRST_RESPONSE_TIME', integer(), 'Minutes to first response.', { min: 0 }),
    c('TOTAL_RESOLUTION_TIME', integer(), 'Minutes to resolution.', { min: 0 }),
    c('ASSIGNED_AGENT_ID', varchar(20), 'Assigned agent.'),
    c('TICKET_SOURCE', varchar(30), 'Where the ticket came from.'),
    c('TICKET_CATEGORY', varchar(50), 'Category.'),
    c('CUSTOMER_SATISFACTION', integer(), 'Satisfaction 1-5.', { min: 1, max: 5 }),
  ],
};
