// A Segment call -> the records it becomes, each named by its contract (the `table` application property the Bronze
// stream routes on) and bound for one hub: track/page/screen -> CUSTOMER_BEHAVIORAL_EVENTS; identify -> a CUSTOMERS
// record (traits mapped to the contract's columns, all traits kept as TRAITS); anonymousId + userId, and alias ->
// IDENTITY_LINKS; group -> ACCOUNT_MEMBERSHIP. Bodies depend only on the call, never on when it was received, so a
// retried call produces byte-identical records that Bronze's record hash keeps once.
import { createHash } from 'node:crypto';
import type { Call, CallType } from './spec.ts';
import type { WriteKey } from './write-keys.ts';

export type HubRole = 'behavioral' | 'identity';

export interface OutRecord {
  hub: HubRole;
  /** Contract name: the `table` application property. */
  table: string;
  /** Partition key: userId, else anonymousId (one person's records stay in order in one partition). */
  key: string;
  /** The record's own id (EVENT_ID, CUSTOMER_ID, LINK_ID, MEMBERSHIP_ID). */
  id: string;
  body: string;
}

/**
 * Segment's semantic event names (e-commerce spec) that have a CUSTOMER_BEHAVIORAL_EVENTS type; any other track name
 * is kept as EVENT_TYPE CUSTOM with its name in EVENT_NAME.
 */
export const TRACK_EVENT_TYPES: Readonly<Record<string, string>> = {
  'Products Searched': 'SEARCH',
  'Product Searched': 'SEARCH',
  'Product Clicked': 'CLICK',
  'Product Added': 'CART_ADD',
  'Product Viewed': 'PRODUCT_VIEW',
  'Product List Viewed': 'PAGE_VIEW',
  'Page Scrolled': 'SCROLL',
};

type Json = Record<string, unknown>;
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A scalar as text (numbers and booleans written out), else null. */
function text(v: unknown): string | null {
  if (typeof v === 'string') return v.trim() === '' ? null : v;
  if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  if (typeof v === 'boolean') return String(v);
  return null;
}

/** Text cut to a derived column's length: the value as sent stays whole in PROPERTIES / CONTEXT / TRAITS. */
const cut = (v: string | null, n: number) => (v === null ? null : v.length > n ? v.slice(0, n) : v);
/** An id that fits its column, else null (an id cut short would name something else). */
const fits = (v: string | null, n: number) => (v !== null && v.length <= n ? v : null);
const first = (...vs: unknown[]) => {
  for (const v of vs) {
    const t = text(v);
    if (t !== null) return t;
  }
  return null;
};
const url = (v: unknown) => {
  const t = text(v);
  return t !== null && t.length <= 200 && /^https?:\/\/\S+$/.test(t) ? t : null;
};
const code = (v: unknown, re: RegExp) => {
  const t = text(v)?.trim();
  return t && re.test(t) ? t.toUpperCase() : null;
};
const isoDay = (v: unknown) => {
  const t = text(v);
  if (!t || !/^\d{4}-\d{2}-\d{2}/.test(t)) return null;
  const d = new Date(t.slice(0, 10));
  return Number.isNaN(d.getTime()) ? null : t.slice(0, 10);
};
const obj = (v: unknown): Json => (isObject(v) ? v : {});

/** sha256 of the parts, as 32 hex digits behind a one-letter prefix: ids that are the same for the same link/membership. */
export function stableId(prefix: string, ...parts: string[]): string {
  return prefix + createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

export function linkId(wk: WriteKey, customerId: string, type: 'ANONYMOUS_ID' | 'PREVIOUS_ID', linked: string): string {
  return stableId('L', wk.tenant, wk.source, customerId, type, linked);
}

function device(ctx: Json): { type: string | null; browser: string | null; os: string | null } {
  const ua = text(ctx.userAgent) ?? '';
  const dev = obj(ctx.device);
  const uaData = obj(ctx.userAgentData);
  const declared = text(dev.type)?.toLowerCase();
  let type: string | null = null;
  if (declared === 'tablet' || /iPad|Tablet/i.test(ua)) type = 'TABLET';
  else if (declared && ['mobile', 'ios', 'android', 'phone'].includes(declared)) type = 'MOBILE';
  else if (uaData.mobile === true || /Mobi|Android|iPhone/i.test(ua)) type = 'MOBILE';
  else if (ua) type = 'DESKTOP';
  const browser = /Edg\//.test(ua) ? 'Edge' : /OPR\//.test(ua) ? 'Opera' : /Firefox\//.test(ua) ? 'Firefox' : /Chrom(e|ium)\//.test(ua) ? 'Chrome' : /Safari\//.test(ua) ? 'Safari' : null;
  const osName = text(obj(ctx.os).name) ?? text(uaData.platform);
  const os =
    osName ??
    (/Windows/.test(ua) ? 'Windows' : /Android/.test(ua) ? 'Android' : /iPhone|iPad|iOS/.test(ua) ? 'iOS' : /Mac OS X|Macintosh/.test(ua) ? 'macOS' : /Linux/.test(ua) ? 'Linux' : null);
  return { type, browser: cut(browser, 30), os: cut(os, 30) };
}

const iso = (d: Date) => d.toISOString();
const json = (v: Json) => JSON.stringify(v);

function behavioralEvent(c: Call, wk: WriteKey): OutRecord {
  const p = c.properties;
  const ctx = c.context;
  const page = obj(ctx.page);
  const loc = obj(ctx.location);
  const d = device(ctx);
  const eventType = c.type === 'page' ? 'PAGE_VIEW' : c.type === 'screen' ? 'SCREEN_VIEW' : (TRACK_EVENT_TYPES[c.event ?? ''] ?? 'CUSTOM');
  const body = {
    EVENT_ID: c.messageId,
    CUSTOMER_ID: c.userId,
    SESSION_ID: fits(first(ctx.sessionId, p.session_id, p.sessionId), 100),
    EVENT_TYPE: eventType,
    EVENT_DATE: iso(c.timestamp),
    PAGE_URL: url(c.type === 'page' ? (p.url ?? page.url) : page.url),
    PAGE_TITLE: cut(first(c.type === 'page' ? p.title : undefined, page.title), 100),
    PRODUCT_ID: fits(first(p.product_id, p.productId), 20),
    CATEGORY_VIEWED: cut(first(p.category), 50),
    SEARCH_QUERY: cut(first(p.query), 100),
    TIME_ON_PAGE: null,
    SCROLL_DEPTH: null,
    DEVICE_TYPE: d.type,
    BROWSER: d.browser,
    OPERATING_SYSTEM: d.os,
    LOCATION_COUNTRY: code(loc.country, /^[A-Za-z]{2,3}$/),
    LOCATION_CITY: cut(first(loc.city), 50),
    REFERRER_URL: url(c.type === 'page' ? (p.referrer ?? page.referrer) : page.referrer),
    ANONYMOUS_ID: c.anonymousId,
    EVENT_NAME: c.event,
    PROPERTIES: json(p),
    CONTEXT: json(ctx),
    TENANT_ID: wk.tenant,
    SOURCE_SYSTEM: wk.source,
  };
  return { hub: 'behavioral', table: 'CUSTOMER_BEHAVIORAL_EVENTS', key: (c.userId ?? c.anonymousId)!, id: c.messageId, body: JSON.stringify(body) };
}

/** Segment's reserved identify traits -> CUSTOMERS columns; every trait stays in TRAITS as sent. */
function customerRecord(c: Call, wk: WriteKey): OutRecord {
  const t = c.traits;
  const addr = obj(t.address);
  const name = text(t.name)?.trim().split(/\s+/) ?? [];
  const body = {
    CUSTOMER_ID: c.userId ?? c.anonymousId,
    FIRST_NAME: first(t.firstName, t.first_name) ?? (name.length > 1 ? name[0]! : null),
    LAST_NAME: first(t.lastName, t.last_name) ?? (name.length > 1 ? name.slice(1).join(' ') : null),
    EMAIL_ADDRESS: first(t.email),
    PHONE_NUMBER: first(t.phone),
    DATE_OF_BIRTH: isoDay(t.birthday),
    GENDER: first(t.gender),
    ADDRESS_LINE_1: first(addr.street),
    CITY: first(addr.city),
    STATE_CODE: code(addr.state, /^[A-Za-z]{2}$/),
    ZIP_CODE: first(addr.postalCode, addr.postal_code, addr.zip),
    COUNTRY_CODE: code(addr.country, /^[A-Za-z]{2,3}$/),
    REGISTRATION_DATE: isoDay(t.createdAt ?? t.created_at),
    TENANT_ID: wk.tenant,
    SOURCE_SYSTEM: wk.source,
    ID_TYPE: c.userId ? 'USER_ID' : 'ANONYMOUS_ID',
    ANONYMOUS_ID: c.anonymousId,
    TRAITS: json(t),
    MESSAGE_ID: c.messageId,
    UPDATED_AT: iso(c.timestamp),
  };
  return { hub: 'identity', table: 'CUSTOMERS', key: (c.userId ?? c.anonymousId)!, id: body.CUSTOMER_ID!, body: JSON.stringify(body) };
}

const LINK_SOURCE: Record<CallType, string> = { identify: 'IDENTIFY', track: 'TRACK', page: 'PAGE', screen: 'SCREEN', group: 'GROUP', alias: 'ALIAS' };

function link(c: Call, wk: WriteKey, type: 'ANONYMOUS_ID' | 'PREVIOUS_ID', linked: string): OutRecord {
  const id = linkId(wk, c.userId!, type, linked);
  const body = {
    LINK_ID: id,
    TENANT_ID: wk.tenant,
    SOURCE_SYSTEM: wk.source,
    CUSTOMER_ID: c.userId,
    LINKED_ID_TYPE: type,
    LINKED_ID: linked,
    LINK_SOURCE: LINK_SOURCE[c.type],
    MESSAGE_ID: c.messageId,
    LINKED_AT: iso(c.timestamp),
  };
  return { hub: 'identity', table: 'IDENTITY_LINKS', key: c.userId!, id, body: JSON.stringify(body) };
}

function membership(c: Call, wk: WriteKey): OutRecord {
  const t = c.traits;
  const member = (c.userId ?? c.anonymousId)!;
  const id = stableId('M', wk.tenant, wk.source, member, c.groupId!);
  const employees = typeof t.employees === 'number' ? t.employees : typeof t.employees === 'string' && /^\d+$/.test(t.employees) ? Number(t.employees) : null;
  const body = {
    MEMBERSHIP_ID: id,
    TENANT_ID: wk.tenant,
    SOURCE_SYSTEM: wk.source,
    GROUP_ID: c.groupId,
    CUSTOMER_ID: c.userId,
    ANONYMOUS_ID: c.anonymousId,
    GROUP_NAME: cut(first(t.name), 200),
    INDUSTRY: cut(first(t.industry), 100),
    EMPLOYEES: employees !== null && Number.isInteger(employees) ? employees : null,
    PLAN: cut(first(t.plan), 50),
    WEBSITE: cut(first(t.website), 200),
    GROUP_TRAITS: json(t),
    MESSAGE_ID: c.messageId,
    UPDATED_AT: iso(c.timestamp),
  };
  return { hub: 'identity', table: 'ACCOUNT_MEMBERSHIP', key: member, id, body: JSON.stringify(body) };
}

/** What the collector remembers of a delivered anonymousId -> userId link (cheaper to build than its LINK_ID). */
export const linkMemoryKey = (wk: WriteKey, userId: string, anonymousId: string) => `${wk.key}\0${userId}\0${anonymousId}`;

/**
 * The records of one call. `knownLink(key)` says whether the anonymousId -> userId link (linkMemoryKey) was already
 * delivered recently, so a signed-in visitor's every page view does not resend the same link.
 */
export function recordsOf(c: Call, wk: WriteKey, knownLink: (key: string) => boolean = () => false): OutRecord[] {
  const out: OutRecord[] = [];
  switch (c.type) {
    case 'track':
    case 'page':
    case 'screen':
      out.push(behavioralEvent(c, wk));
      break;
    case 'identify':
      out.push(customerRecord(c, wk));
      break;
    case 'group':
      out.push(membership(c, wk));
      break;
    case 'alias': {
      const type = c.previousId === c.anonymousId ? 'ANONYMOUS_ID' : 'PREVIOUS_ID';
      if (c.previousId !== c.userId) out.push(link(c, wk, type, c.previousId!));
      break;
    }
  }
  if (c.type !== 'alias' && c.userId && c.anonymousId && !knownLink(linkMemoryKey(wk, c.userId, c.anonymousId))) {
    out.push(link(c, wk, 'ANONYMOUS_ID', c.anonymousId));
  }
  if (c.type === 'alias' && c.anonymousId && c.anonymousId !== c.previousId && c.anonymousId !== c.userId && !knownLink(linkMemoryKey(wk, c.userId!, c.anonymousId))) {
    out.push(link(c, wk, 'ANONYMOUS_ID', c.anonymousId));
  }
  return out;
}
