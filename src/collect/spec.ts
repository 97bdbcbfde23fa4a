// The Segment HTTP Tracking API as the collector reads it: the six call types, the checks a call must pass before it is
// accepted (what routing needs; column rules are Bronze's), batch-level context merged into each call, the event time
// corrected for the sender's clock, and a messageId for calls that come without one.
import { createHash } from 'node:crypto';

export const CALL_TYPES = ['identify', 'track', 'page', 'screen', 'group', 'alias'] as const;
export type CallType = (typeof CALL_TYPES)[number];

/** Segment's limits: 32 KB per call (also per call inside a batch), 500 KB and 2,500 calls per batch. */
export const LIMITS = { callBytes: 32 * 1024, batchBytes: 500 * 1024, batchCalls: 2500, messageIdChars: 100 } as const;

/**
 * Clock skew below this is taken for network latency and left alone: the event keeps the time its sender gave it, so a
 * retried call yields the same record and Bronze's record hash drops the copy. Above it, Segment's correction applies.
 */
export const SKEW_TOLERANCE_MS = 30_000;

type Json = Record<string, unknown>;

/** One accepted call, normalised. */
export interface Call {
  type: CallType;
  messageId: string;
  userId: string | null;
  anonymousId: string | null;
  /** track: the event name; page/screen: the name (may be null). */
  event: string | null;
  properties: Json;
  traits: Json;
  context: Json;
  previousId: string | null;
  groupId: string | null;
  /** When it happened: the sender's timestamp, corrected for clock skew beyond SKEW_TOLERANCE_MS. */
  timestamp: Date;
}

export interface Problem {
  /** Position in the batch (absent for a single call). */
  index?: number;
  field: string;
  problem: string;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An id as Segment takes it: a non-empty string, or a number written as text. */
function idOf(v: unknown): string | null | undefined {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  return undefined;
}

function dateOf(v: unknown): Date | null | undefined {
  if (v === undefined || v === null || v === '') return null;
  if (typeof v !== 'string' && typeof v !== 'number') return undefined;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export interface Envelope {
  /** Batch-level context and sentAt (merged into / used for every call of the batch). */
  context?: Json;
  sentAt?: unknown;
  receivedAt: Date;
  /** Namespace for messageIds the collector derives (tenant and source of the write key). */
  scope: string;
}

/**
 * One raw call -> a Call, or the problems that refuse it. `type` comes from the path for single calls and from the call
 * itself inside a batch.
 */
export function normaliseCall(raw: unknown, type: string | undefined, env: Envelope, index?: number): Call | Problem[] {
  const at = (field: string, problem: string): Problem => (index === undefined ? { field, problem } : { index, field, problem });
  if (!isObject(raw)) return [at('', 'a call must be a JSON object')];
  const problems: Problem[] = [];
  const t = (type ?? raw.type) as string | undefined;
  if (typeof t !== 'string' || !(CALL_TYPES as readonly string[]).includes(t)) {
    problems.push(at('type', `must be one of ${CALL_TYPES.join(', ')}${t === undefined ? '' : `, got ${JSON.stringify(t).slice(0, 40)}`}`));
  }
  const userId = idOf(raw.userId);
  const anonymousId = idOf(raw.anonymousId);
  const previousId = idOf(raw.previousId);
  const groupId = idOf(raw.groupId);
  if (userId === undefined) problems.push(at('userId', 'must be a string'));
  if (anonymousId === undefined) problems.push(at('anonymousId', 'must be a string'));
  if (t === 'alias') {
    if (!userId) problems.push(at('userId', 'alias needs a userId'));
    if (!previousId) problems.push(at('previousId', previousId === undefined ? 'must be a string' : 'alias needs a previousId'));
  } else if (userId === null && anonymousId === null) {
    problems.push(at('userId', 'a call needs a userId or an anonymousId'));
  }
  if (t === 'track' && (typeof raw.event !== 'string' || raw.event.trim() === '')) problems.push(at('event', 'track needs an event name'));
  if (t === 'group' && !groupId) problems.push(at('groupId', groupId === undefined ? 'must be a string' : 'group needs a groupId'));
  for (const f of ['properties', 'traits', 'context'] as const) {
    if (raw[f] !== undefined && raw[f] !== null && !isObject(raw[f])) problems.push(at(f, 'must be a JSON object'));
  }
  const messageId = idOf(raw.messageId);
  if (messageId === undefined) problems.push(at('messageId', 'must be a string'));
  else if (messageId !== null && messageId.length > LIMITS.messageIdChars) problems.push(at('messageId', `must be at most ${LIMITS.messageIdChars} characters, got ${messageId.length}`));
  const timestamp = dateOf(raw.timestamp ?? raw.originalTimestamp);
  if (timestamp === undefined) problems.push(at('timestamp', 'must be an ISO-8601 date'));
  const sentAt = dateOf(raw.sentAt ?? env.sentAt);
  if (sentAt === undefined) problems.push(at('sentAt', 'must be an ISO-8601 date'));
  if (problems.length > 0) return problems;

  const context = env.context && isObject(env.context) ? { ...env.context, ...((raw.context as Json | undefined) ?? {}) } : ((raw.context as Json | undefined) ?? {});
  const call: Call = {
    type: t as CallType,
    messageId: messageId ?? derivedMessageId(raw, env.scope),
    userId: userId ?? null,
    anonymousId: anonymousId ?? null,
    event: t === 'track' ? (raw.event as string) : typeof raw.name === 'string' && raw.name !== '' ? raw.name : null,
    properties: (raw.properties as Json | undefined) ?? {},
    traits: (raw.traits as Json | undefined) ?? {},
    context,
    previousId: previousId ?? null,
    groupId: groupId ?? null,
    timestamp: eventTime(timestamp ?? null, sentAt ?? null, env.receivedAt),
  };
  // page(category, name): analytics.js puts the category beside the name.
  if ((t === 'page' || t === 'screen') && typeof raw.category === 'string' && call.properties.category === undefined) {
    call.properties = { ...call.properties, category: raw.category };
  }
  return call;
}

/**
 * Segment: timestamp = receivedAt - (sentAt - originalTimestamp). Without a timestamp the call happened when it was
 * received; without sentAt there is nothing to measure the skew by. A skew within SKEW_TOLERANCE_MS is latency.
 */
export function eventTime(timestamp: Date | null, sentAt: Date | null, receivedAt: Date): Date {
  if (!timestamp) return receivedAt;
  if (!sentAt) return timestamp;
  const skew = receivedAt.getTime() - sentAt.getTime();
  return Math.abs(skew) <= SKEW_TOLERANCE_MS ? timestamp : new Date(timestamp.getTime() + skew);
}

/** Fields of a call that change between retries of the same call, left out of a derived messageId. */
const VOLATILE = new Set(['sentAt', 'writeKey', '_metadata', 'messageId']);

/** A messageId for a call sent without one: the same call (retried) gets the same id, so it is still deduplicated. */
export function derivedMessageId(raw: Json, scope: string): string {
  const h = createHash('sha256').update(scope).update('\0');
  h.update(canonicalJson(raw, VOLATILE));
  return `c360-${h.digest('hex').slice(0, 40)}`;
}

/** JSON with object keys sorted (at every level), so equal content gives equal text. */
export function canonicalJson(v: unknown, skipTop?: ReadonlySet<string>): string {
  if (Array.isArray(v)) return `[${v.map((x) => canonicalJson(x)).join(',')}]`;
  if (isObject(v)) {
    const keys = Object.keys(v)
      .filter((k) => v[k] !== undefined && !skipTop?.has(k))
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(v[k])}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}
