import { column as c, timestamp, varchar, type TableContract } from './contract.ts';

/**
 * Collected by `c360 collect` (not one of the seed's source tables): one row per distinct link between two ids of one
 * person within one source. Identity resolution treats each link as an always-match edge; anonymous ids reach the
 * crosswalk through their links.
 */
export const IDENTITY_LINKS: TableContract = {
  name: 'IDENTITY_LINKS',
  sourceSystem: 'Segment',
  bronzeDir: 'identity_links',
  description:
    'Identity links collected from tracking calls: an anonymousId sent together with a userId (identify, track, page, screen, group), ' +
    'or an alias (previousId -> userId). One row per distinct link; identity resolution treats each as an always-match edge.',
  primaryKey: ['LINK_ID'],
  eventTime: 'LINKED_AT',
  streaming: true,
  version: 1,
  columns: [
    c('LINK_ID', varchar(40), "'L' + 32 hex digits of sha256(TENANT_ID, SOURCE_SYSTEM, CUSTOMER_ID, LINKED_ID_TYPE, LINKED_ID): the same link always has the same id.", { required: true }),
    c('TENANT_ID', varchar(50), 'Tenant of the write key that collected the link.', { required: true }),
    c('SOURCE_SYSTEM', varchar(50), 'Source of both ids (the write key\'s source, e.g. WEB).', { required: true }),
    c('CUSTOMER_ID', varchar(100), 'The userId: a CUSTOMERS.CUSTOMER_ID within SOURCE_SYSTEM.', { required: true, references: { table: 'CUSTOMERS', column: 'CUSTOMER_ID' } }),
    c('LINKED_ID_TYPE', varchar(20), 'ANONYMOUS_ID: the anonymousId the userId was sent with (or an alias whose previousId is that anonymousId); PREVIOUS_ID: an alias previousId, which may be an earlier userId or an anonymousId.', {
      required: true,
      enum: ['ANONYMOUS_ID', 'PREVIOUS_ID'],
    }),
    c('LINKED_ID', varchar(100), 'The other id (anonymousId or previousId).', { required: true }),
    c('LINK_SOURCE', varchar(10), 'The call that carried the link.', { enum: ['IDENTIFY', 'TRACK', 'PAGE', 'SCREEN', 'GROUP', 'ALIAS'] }),
    c('MESSAGE_ID', varchar(100), 'messageId of the call that carried the link (the first one the collector saw).', { required: true }),
    c('LINKED_AT', timestamp(), 'Time of that call (clock-skew corrected, UTC).', { required: true }),
  ],
};
