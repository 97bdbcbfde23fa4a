// The JSON of every event activation sends (topics and webhooks), as JSON Schema (draft 2020-12). Tests validate what
// is sent against these; docs/activation.md shows them. One event = one JSON object; eventId is stable per change, so
// consumers dedupe on it.

export const PROFILE_TOPIC = 'c360-updated-profiles';
export const ACTIVATION_TOPIC = 'c360-activation-events';

const common = {
  eventId: { type: 'string', description: 'Stable id of the change: the same change always carries the same id (dedupe on it)' },
  customer360Id: { type: 'string', description: 'CUSTOMER360_ID; also the partition key, so one customer\'s events stay in order' },
  batch: { type: 'integer', minimum: 1, description: 'Committed batch of the change feed / audience log' },
  asOf: { type: 'string', format: 'date', description: 'As-of date the batch was computed for' },
  runId: { type: 'string', description: 'Pipeline run that committed the batch' },
} as const;

const change = {
  oneOf: [
    { type: 'object', required: ['attribute', 'old', 'new'], additionalProperties: false, properties: { attribute: { type: 'string' }, old: {}, new: {} } },
    {
      type: 'object', required: ['attribute', 'pii', 'oldChecksum', 'newChecksum'], additionalProperties: false,
      properties: { attribute: { type: 'string' }, pii: { const: true }, oldChecksum: { type: ['string', 'null'] }, newChecksum: { type: ['string', 'null'] } },
    },
  ],
} as const;

/** What identity resolution did, on profile.merged and profile.split: enough for a consumer to re-key what it holds. */
const identity = {
  type: 'object', required: ['before', 'after', 'retired', 'created'], additionalProperties: false,
  description: 'merged/split only: the person ids before and after (from identity_changes)',
  properties: {
    before: { type: 'array', items: { type: 'string' }, description: 'Ids before (merged: every previous id, the survivor first)' },
    after: { type: 'array', items: { type: 'string' }, description: 'Ids after (merged: the survivor; split: the kept id first)' },
    retired: { type: 'array', items: { type: 'string' }, description: 'Ids that no longer exist: re-key what you hold under them to customer360Id' },
    created: { type: 'array', items: { type: 'string' }, description: 'Ids that did not exist before (split: the parts that left customer360Id)' },
  },
} as const;

/**
 * profile.created / profile.updated / profile.deleted, and profile.merged / profile.split (identity resolution joined
 * people into customer360Id, or split people off it), on c360-updated-profiles.
 */
export const PROFILE_EVENT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://c360.example/schemas/profile-event.json',
  title: 'Profile change event (topic c360-updated-profiles)',
  type: 'object',
  required: ['eventId', 'type', 'customer360Id', 'batch', 'asOf', 'runId', 'changedAttributes', 'changes', 'profileChecksum'],
  additionalProperties: false,
  if: { properties: { type: { enum: ['profile.merged', 'profile.split'] } } },
  then: { required: ['identity'] },
  else: { not: { required: ['identity'] } },
  properties: {
    ...common,
    type: { enum: ['profile.created', 'profile.updated', 'profile.deleted', 'profile.merged', 'profile.split'] },
    identity,
    changedAttributes: { type: 'array', items: { type: 'string' }, description: 'Profile columns that changed (created: those with a value; deleted: none)' },
    changes: { type: 'array', items: change, description: 'Old and new value per non-PII attribute; checksums only for PII attributes' },
    profileChecksum: { type: ['string', 'null'], description: 'Hash of the new profile (null when deleted)' },
  },
} as const;

/**
 * audience.entered / audience.exited, and action.triggered (a next-best-action trigger of the audience fired: at most
 * once per member, action and day), on c360-activation-events and in webhook batches.
 */
export const AUDIENCE_EVENT_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://c360.example/schemas/audience-event.json',
  title: 'Audience membership event or next-best-action trigger (topic c360-activation-events, webhooks)',
  type: 'object',
  required: ['eventId', 'type', 'audience', 'customer360Id', 'batch', 'asOf', 'runId'],
  additionalProperties: false,
  if: { properties: { type: { const: 'action.triggered' } } },
  then: { required: ['action', 'reason'] },
  else: { not: { anyOf: [{ required: ['action'] }, { required: ['reason'] }] } },
  properties: {
    ...common,
    type: { enum: ['audience.entered', 'audience.exited', 'action.triggered'] },
    audience: { type: 'string', description: 'Audience name' },
    attributes: { type: 'object', description: 'entered and triggered: the audience\'s attributes of the member (its file\'s attributes list)' },
    action: { type: 'string', description: 'triggered only: the action of the trigger (audiences/<file>: triggers[].action)' },
    reason: {
      type: 'object', required: ['on'], description: 'triggered only: why it fired',
      properties: { on: { enum: ['entered', 'changed'] }, changes: { type: 'array', items: change, description: 'changed: the watched attributes\' changes from the profile change feed' } },
    },
    mergedInto: { type: 'string', description: 'exited only, when identity resolution merged the member into another person: that person\'s id (re-key to it)' },
  },
} as const;

/** The body of one webhook POST (signed: see docs/activation.md). */
export const WEBHOOK_BODY_SCHEMA = {
  $schema: 'https://json-schema.org/draft/2020-12/schema',
  $id: 'https://c360.example/schemas/webhook-batch.json',
  title: 'Webhook batch',
  type: 'object',
  required: ['destination', 'batchId', 'events'],
  additionalProperties: false,
  properties: {
    destination: { type: 'string', description: '<audience>.<destination name>' },
    batchId: { type: 'string', description: 'Stable id of this set of events (the same set always has the same id)' },
    events: { type: 'array', items: { $ref: 'https://c360.example/schemas/audience-event.json' } },
  },
} as const;

export interface ProfileEvent {
  eventId: string;
  type: 'profile.created' | 'profile.updated' | 'profile.deleted' | 'profile.merged' | 'profile.split';
  customer360Id: string;
  batch: number;
  asOf: string;
  runId: string;
  changedAttributes: string[];
  changes: unknown[];
  profileChecksum: string | null;
  identity?: { before: string[]; after: string[]; retired: string[]; created: string[] };
}

export interface AudienceEvent {
  eventId: string;
  type: 'audience.entered' | 'audience.exited' | 'action.triggered';
  audience: string;
  customer360Id: string;
  batch: number;
  asOf: string;
  runId: string;
  attributes?: Record<string, unknown>;
  mergedInto?: string;
  action?: string;
  reason?: unknown;
}
