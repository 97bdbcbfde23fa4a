// The collector's reading of Segment calls (no server): what is refused and why, clock-skew correction, derived
// messageIds, write keys, and the records each call type becomes.
import { describe, expect, it } from 'vitest';
import { linkMemoryKey, recordsOf, TRACK_EVENT_TYPES } from '../src/collect/mapping.ts';
import { eventTime, normaliseCall, SKEW_TOLERANCE_MS, type Call, type Problem } from '../src/collect/spec.ts';
import { basicAuthKey, loadWriteKeys, parseWriteKey } from '../src/collect/write-keys.ts';
import { linkedIds, linkOverrides } from '../src/identity/collected.ts';
import { getContract } from '../schemas/index.ts';

const received = new Date('2026-11-20T12:00:00.000Z');
const env = { receivedAt: received, scope: 'acme\0WEB' };
const wk = { key: 'wk_test_123', tenant: 'acme', source: 'WEB' };
const call = (raw: unknown, type?: string) => {
  const c = normaliseCall(raw, type, env);
  if (Array.isArray(c)) throw new Error(JSON.stringify(c));
  return c as Call;
};
const problems = (raw: unknown, type?: string, index?: number) => normaliseCall(raw, type, env, index) as Problem[];

describe('calls', () => {
  it('refuses what cannot be routed, naming the field and the call', () => {
    expect(problems({ event: 'x' }, 'track')).toEqual([{ field: 'userId', problem: 'a call needs a userId or an anonymousId' }]);
    expect(problems({ userId: 'u' }, 'track').map((p) => p.field)).toEqual(['event']);
    expect(problems({ userId: 'u' }, 'alias').map((p) => p.field)).toEqual(['previousId']);
    expect(problems({ userId: 'u' }, 'group').map((p) => p.field)).toEqual(['groupId']);
    expect(problems({ type: 'purchase', userId: 'u' }, undefined, 4)).toEqual([{ index: 4, field: 'type', problem: 'must be one of identify, track, page, screen, group, alias, got "purchase"' }]);
    expect(problems({ userId: { id: 1 }, event: 'x' }, 'track').map((p) => p.field)).toEqual(['userId']);
    expect(problems({ userId: 'u', event: 'x', properties: [1] }, 'track').map((p) => p.field)).toEqual(['properties']);
    expect(problems({ userId: 'u', event: 'x', messageId: 'm'.repeat(101) }, 'track')[0]!.problem).toMatch(/at most 100 characters, got 101/);
    expect(problems({ userId: 'u', event: 'x', timestamp: 'yesterday' }, 'track').map((p) => p.field)).toEqual(['timestamp']);
    expect(problems([1], 'track')).toEqual([{ field: '', problem: 'a call must be a JSON object' }]);
  });

  it('merges batch context into each call (the call wins) and takes numbers as ids', () => {
    const c = normaliseCall({ type: 'track', userId: 42, event: 'x', context: { locale: 'fr' } }, undefined, { ...env, context: { locale: 'en', ip: '1.2.3.4' } }) as Call;
    expect(c.userId).toBe('42');
    expect(c.context).toEqual({ locale: 'fr', ip: '1.2.3.4' });
  });

  it('corrects the event time by the clock skew beyond the tolerance, and leaves latency alone', () => {
    const t = new Date('2026-11-20T11:00:00.000Z');
    // Sender clock one hour behind: sentAt 11:00:05 received 12:00:05 -> the event happened at 12:00.
    expect(eventTime(t, new Date('2026-11-20T11:00:05.000Z'), new Date('2026-11-20T12:00:05.000Z')).toISOString()).toBe('2026-11-20T12:00:00.000Z');
    // Latency within the tolerance: the sender's own time, whatever the receive time (retries produce equal records).
    expect(eventTime(t, new Date('2026-11-20T11:00:05.000Z'), new Date(Date.parse('2026-11-20T11:00:05.000Z') + SKEW_TOLERANCE_MS)).toISOString()).toBe(t.toISOString());
    expect(eventTime(t, null, received)).toBe(t);
    expect(eventTime(null, null, received)).toBe(received);
    // A batch's sentAt applies to its calls.
    const c = normaliseCall({ type: 'track', userId: 'u', event: 'x', timestamp: t.toISOString() }, undefined, { ...env, sentAt: '2026-11-20T11:00:00.000Z' }) as Call;
    expect(c.timestamp.toISOString()).toBe('2026-11-20T12:00:00.000Z');
  });

  it('derives the same messageId for the same call sent again (sentAt aside), a different one per write key scope', () => {
    const a = call({ userId: 'u', event: 'x', properties: { a: 1, b: 2 }, sentAt: '2026-11-20T11:00:00Z' }, 'track');
    const b = call({ event: 'x', properties: { b: 2, a: 1 }, userId: 'u', sentAt: '2026-11-20T11:00:09Z' }, 'track');
    expect(a.messageId).toMatch(/^c360-[0-9a-f]{40}$/);
    expect(b.messageId).toBe(a.messageId);
    expect((normaliseCall({ userId: 'u', event: 'x', properties: { a: 1, b: 2 } }, 'track', { ...env, scope: 'other\0WEB' }) as Call).messageId).not.toBe(a.messageId);
    expect(call({ userId: 'u', event: 'x', properties: { a: 1, b: 3 } }, 'track').messageId).not.toBe(a.messageId);
  });
});

describe('write keys', () => {
  it('parses KEY[:TENANT[:SOURCE]] from flags and the environment, and refuses conflicts and junk', () => {
    expect(parseWriteKey('wk_live_3f9a')).toEqual({ key: 'wk_live_3f9a', tenant: 'default', source: 'WEB' });
    expect(parseWriteKey('wk_live_3f9a:acme:app')).toEqual({ key: 'wk_live_3f9a', tenant: 'acme', source: 'APP' });
    expect(() => parseWriteKey('short')).toThrow(/at least 8 characters/);
    expect(() => parseWriteKey('wk_live_3f9a::WEB')).toThrow(/invalid tenant/);
    const keys = loadWriteKeys(['wk_live_aaaa:acme'], 'wk_live_bbbb:acme:APP, wk_live_aaaa:acme');
    expect([...keys.keys()]).toEqual(['wk_live_aaaa', 'wk_live_bbbb']);
    expect(() => loadWriteKeys(['wk_live_aaaa:acme'], 'wk_live_aaaa:other')).toThrow(/given twice/);
    expect(() => loadWriteKeys([], '')).toThrow(/No write keys/);
  });

  it('reads the key from HTTP Basic auth, with or without the colon', () => {
    expect(basicAuthKey(`Basic ${Buffer.from('wk_live_3f9a:').toString('base64')}`)).toBe('wk_live_3f9a');
    expect(basicAuthKey(`Basic ${Buffer.from('wk_live_3f9a').toString('base64')}`)).toBe('wk_live_3f9a');
    expect(basicAuthKey('Bearer abc')).toBeUndefined();
    expect(basicAuthKey(undefined)).toBeUndefined();
  });
});

describe('records', () => {
  const bodies = (c: Call) => recordsOf(c, wk).map((r) => ({ ...r, body: JSON.parse(r.body) as Record<string, unknown> }));

  it('track/page/screen -> CUSTOMER_BEHAVIORAL_EVENTS with mapped types, unknown names as CUSTOM, properties kept', () => {
    const [e, link] = bodies(
      call(
        {
          messageId: 'ajs-next-1', userId: 'u1', anonymousId: 'a1', event: 'Product Added', timestamp: '2026-11-20T11:59:00Z',
          properties: { product_id: 'SKU-1', price: 9.5 },
          context: { page: { url: 'https://shop.example/p/1', title: 'Shoe', referrer: '' }, userAgent: 'Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1', location: { country: 'fr', city: 'Lyon' } },
        },
        'track',
      ),
    );
    expect(e).toMatchObject({ hub: 'behavioral', table: 'CUSTOMER_BEHAVIORAL_EVENTS', key: 'u1', id: 'ajs-next-1' });
    expect(e!.body).toMatchObject({
      EVENT_ID: 'ajs-next-1', CUSTOMER_ID: 'u1', ANONYMOUS_ID: 'a1', EVENT_TYPE: 'CART_ADD', EVENT_NAME: 'Product Added', EVENT_DATE: '2026-11-20T11:59:00.000Z',
      PRODUCT_ID: 'SKU-1', PAGE_URL: 'https://shop.example/p/1', PAGE_TITLE: 'Shoe', REFERRER_URL: null, DEVICE_TYPE: 'MOBILE', BROWSER: 'Safari', OPERATING_SYSTEM: 'iOS',
      LOCATION_COUNTRY: 'FR', LOCATION_CITY: 'Lyon', TENANT_ID: 'acme', SOURCE_SYSTEM: 'WEB',
    });
    expect(JSON.parse(e!.body.PROPERTIES as string)).toEqual({ product_id: 'SKU-1', price: 9.5 });
    expect(link).toMatchObject({ hub: 'identity', table: 'IDENTITY_LINKS', key: 'u1' });
    expect(link!.body).toMatchObject({ CUSTOMER_ID: 'u1', LINKED_ID_TYPE: 'ANONYMOUS_ID', LINKED_ID: 'a1', LINK_SOURCE: 'TRACK', MESSAGE_ID: 'ajs-next-1' });

    expect(bodies(call({ anonymousId: 'a1', event: 'Webinar Joined' }, 'track'))[0]!.body).toMatchObject({ EVENT_TYPE: 'CUSTOM', EVENT_NAME: 'Webinar Joined', CUSTOMER_ID: null });
    expect(bodies(call({ anonymousId: 'a1', name: 'Home', properties: { url: 'https://shop.example/', category: 'Landing' } }, 'page'))[0]!.body).toMatchObject({ EVENT_TYPE: 'PAGE_VIEW', EVENT_NAME: 'Home', PAGE_URL: 'https://shop.example/', CATEGORY_VIEWED: 'Landing' });
    expect(bodies(call({ anonymousId: 'a1', name: 'Cart' }, 'screen'))[0]!.body).toMatchObject({ EVENT_TYPE: 'SCREEN_VIEW', EVENT_NAME: 'Cart' });
    // Every mapped type is one the contract allows.
    const allowed = getContract('CUSTOMER_BEHAVIORAL_EVENTS').columns.find((c) => c.name === 'EVENT_TYPE')!.enum!;
    for (const t of Object.values(TRACK_EVENT_TYPES)) expect(allowed).toContain(t);
  });

  it('identify -> a CUSTOMERS record from the reserved traits, every trait kept; codes only when they are codes', () => {
    const [c] = bodies(
      call(
        {
          userId: 'u1', messageId: 'm1',
          traits: { email: 'ann.lee@example.com', name: 'Ann Marie Lee', phone: 6175550134, birthday: '1990-04-02T00:00:00Z', address: { street: '1 Main St', city: 'Boston', state: 'ma', postalCode: '02139', country: 'United States' }, plan: 'pro' },
        },
        'identify',
      ),
    );
    expect(c).toMatchObject({ table: 'CUSTOMERS', key: 'u1', id: 'u1' });
    expect(c!.body).toMatchObject({
      CUSTOMER_ID: 'u1', FIRST_NAME: 'Ann', LAST_NAME: 'Marie Lee', EMAIL_ADDRESS: 'ann.lee@example.com', PHONE_NUMBER: '6175550134', DATE_OF_BIRTH: '1990-04-02',
      ADDRESS_LINE_1: '1 Main St', CITY: 'Boston', STATE_CODE: 'MA', ZIP_CODE: '02139', COUNTRY_CODE: null, SOURCE_SYSTEM: 'WEB', TENANT_ID: 'acme', ID_TYPE: 'USER_ID', MESSAGE_ID: 'm1',
    });
    expect(JSON.parse(c!.body.TRAITS as string).plan).toBe('pro');
  });

  it('alias -> a link (ANONYMOUS_ID when the previousId is the anonymousId); group -> a membership; link ids are stable', () => {
    const [a] = bodies(call({ userId: 'u2', previousId: 'old-7' }, 'alias'));
    expect(a).toMatchObject({ table: 'IDENTITY_LINKS', key: 'u2' });
    expect(a!.body).toMatchObject({ CUSTOMER_ID: 'u2', LINKED_ID_TYPE: 'PREVIOUS_ID', LINKED_ID: 'old-7', LINK_SOURCE: 'ALIAS' });
    expect(bodies(call({ userId: 'u2', previousId: 'a9', anonymousId: 'a9' }, 'alias')).map((r) => r.body.LINKED_ID_TYPE)).toEqual(['ANONYMOUS_ID']);
    const again = bodies(call({ userId: 'u2', previousId: 'old-7', messageId: 'other' }, 'alias'))[0]!;
    expect(again.id).toBe(a!.id);
    const [m] = bodies(call({ anonymousId: 'a9', groupId: 'acme-inc', traits: { name: 'Acme Inc', employees: '420', industry: 'Retail' } }, 'group'));
    expect(m).toMatchObject({ table: 'ACCOUNT_MEMBERSHIP', key: 'a9' });
    expect(m!.body).toMatchObject({ GROUP_ID: 'acme-inc', CUSTOMER_ID: null, ANONYMOUS_ID: 'a9', GROUP_NAME: 'Acme Inc', EMPLOYEES: 420, INDUSTRY: 'Retail' });
    // A link already delivered is not sent again.
    const c = call({ userId: 'u1', anonymousId: 'a1', event: 'x' }, 'track');
    expect(recordsOf(c, wk, (k) => k === linkMemoryKey(wk, 'u1', 'a1')).map((r) => r.table)).toEqual(['CUSTOMER_BEHAVIORAL_EVENTS']);
  });

  it('the records of a retried call are byte-identical, whenever it is received', () => {
    const raw = { userId: 'u1', anonymousId: 'a1', event: 'Order Completed', messageId: 'm-1', timestamp: '2026-11-20T11:59:59Z', properties: { total: 20 } };
    const at = (ms: number) => normaliseCall({ ...raw, sentAt: new Date(ms).toISOString() }, 'track', { receivedAt: new Date(ms + 40), scope: env.scope }) as Call;
    expect(recordsOf(at(Date.parse('2026-11-20T12:00:00Z')), wk)).toEqual(recordsOf(at(Date.parse('2026-11-20T12:09:00Z')), wk));
  });
});

describe('collected links in identity resolution', () => {
  const links = [
    { source: 'WEB', customerId: 'u1', linkedId: 'a1', linkedAt: '2026-11-01 10:00:00', linkId: 'L1' },
    { source: 'WEB', customerId: 'u2', linkedId: 'a1', linkedAt: '2026-11-02 10:00:00', linkId: 'L2' }, // shared browser, later
    { source: 'WEB', customerId: 'u3', linkedId: 'a3', linkedAt: '2026-11-01 10:00:00', linkId: 'L3' }, // u3 never identified
    { source: 'WEB', customerId: 'u1', linkedId: 'u0', linkedAt: '2026-11-01 10:00:00', linkId: 'L4' }, // alias between records
  ];
  it('links between two records are always-match edges; other ids join the nearest, earliest-linked person', () => {
    const records = new Set(['u0', 'u1', 'u2']);
    expect(linkOverrides(links, 'acme', (_s, id) => records.has(id))).toEqual([[{ tenant: 'acme', source: 'WEB', customerId: 'u1' }, { tenant: 'acme', source: 'WEB', customerId: 'u0' }]]);
    const ids = new Map([['WEB\0u0', 'C1'], ['WEB\0u1', 'C1'], ['WEB\0u2', 'C2']]);
    expect(linkedIds(links, ids)).toEqual([{ source: 'WEB', customerId: 'a1', customer360Id: 'C1' }]);
    // u3 and a3 reach no record: no id for them. Once a3 identifies, both get its person.
    expect(linkedIds(links, new Map([...ids, ['WEB\0a3', 'C3']]))).toEqual([
      { source: 'WEB', customerId: 'a1', customer360Id: 'C1' },
      { source: 'WEB', customerId: 'u3', customer360Id: 'C3' },
    ]);
  });
});
