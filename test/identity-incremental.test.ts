// Incremental identity resolution into the persisted graph: joins, merges, splits, tenants, placeholders, re-runs,
// full refresh, and agreement with a full re-resolution on labelled data.
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UpdateOptions } from '../src/identity/incremental.ts';
import { parseOverrides } from '../src/identity/overrides.ts';
import { applyBatch, BASE, HEADER } from './fixtures/identity-graph.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'c360-incr-'));
});
afterAll(async () => rm(dir, { recursive: true, force: true }));

const apply = (state: string, csv: string, options: Partial<UpdateOptions> = {}) => applyBatch(dir, state, csv, options);

describe('incremental identity resolution', () => {
  it('a record for an existing person joins its id; a bridging record merges two people; an override splits them', async () => {
    const state = join(dir, 'g1');
    const base = await apply(state, BASE);
    expect(base.result.mode).toBe('full');
    expect(base.id['acme/1']).not.toBe(base.id['acme/2']);
    expect(base.id['acme/3']).toBe(base.id['acme/4']);
    expect(base.id['acme/3']).toBe(base.id['acme/5']);
    expect(base.result.events.filter((e) => e.type === 'linked')).toHaveLength(3); // three new people

    // Joins: the same e-mail address and name as record 1.
    const join1 = await apply(state, `${HEADER}\nacme,6,ECOMMERCE,Rob,Smith,Rob.Smith+shop@gmail.com,,,London\n`);
    expect(join1.result.mode).toBe('incremental');
    expect(join1.id['acme/6']).toBe(base.id['acme/1']);
    expect(join1.result.events).toEqual([expect.objectContaining({ type: 'linked', tenantId: 'acme', before: [base.id['acme/1']], after: [base.id['acme/1']], records: [{ sourceSystem: 'ECOMMERCE', customerId: '6' }] })]);
    expect(join1.result.events[0]!.ledger.some((l) => l.DECISION === 'LINKED')).toBe(true);
    for (const k of ['acme/1', 'acme/2', 'acme/3', 'acme/4', 'acme/5']) expect(join1.id[k]).toBe(base.id[k]);

    // Re-running the same batch changes nothing and emits nothing.
    const again = await apply(state, `${HEADER}\nacme,6,ECOMMERCE,Rob,Smith,Rob.Smith+shop@gmail.com,,,London\n`);
    expect(again.result.events).toEqual([]);
    expect(again.result.unchangedRecords).toBe(1);
    expect(again.changes).toBe(join1.changes);

    // Bridges: record 7 shares record 1's address and record 2's phone. Person 1 (two records) survives.
    const bridge = await apply(state, `${HEADER}\nacme,7,MARKETING,Robert,Smith,rob.smith@gmail.com,415-555-2671,,\n`);
    const survivor = base.id['acme/1']!;
    expect(bridge.id['acme/2']).toBe(survivor);
    expect(bridge.id['acme/7']).toBe(survivor);
    const merged = bridge.result.events.filter((e) => e.type === 'merged');
    expect(merged).toEqual([expect.objectContaining({ before: [survivor, base.id['acme/2']], after: [survivor], records: [{ sourceSystem: 'POS', customerId: '2' }] })]);
    expect(bridge.retired).toContainEqual({ RETIRED_ID: base.id['acme/2'], SURVIVOR_ID: survivor });

    // Never-match between 1 and 7: record 7 and record 2 (joined through 7's phone) leave; 1 and 6 (the larger
    // part? equal: 2 and 2, the id goes to the part holding most of its earlier records) keep the id.
    const overrides = parseOverrides('KIND,TENANT_ID,SOURCE_SYSTEM_L,CUSTOMER_ID_L,SOURCE_SYSTEM_R,CUSTOMER_ID_R\nnever_match,acme,CRM,1,MARKETING,7\n');
    const split = await apply(state, `${HEADER}\n`, { overrides });
    expect(split.id['acme/1']).toBe(survivor);
    expect(split.id['acme/6']).toBe(survivor);
    expect(split.id['acme/7']).not.toBe(survivor);
    expect(split.id['acme/2']).toBe(split.id['acme/7']);
    const ev = split.result.events.filter((e) => e.type === 'split');
    expect(ev).toEqual([expect.objectContaining({ before: [survivor], after: [survivor, split.id['acme/7']] })]);
    expect(ev[0]!.ledger.some((l) => l.DECISION === 'REFUSED:NEVER_MATCH')).toBe(true);
    // Overrides persist with the graph: a later batch without them keeps the split.
    const later = await apply(state, `${HEADER}\nacme,8,CRM,Robert,Smith,rob.smith@gmail.com,,,London\n`);
    expect(later.id['acme/8']).toBe(survivor);
    expect(later.id['acme/7']).toBe(split.id['acme/7']);
  });

  it("tenant A's records never touch tenant B's graph", async () => {
    const state = join(dir, 'g2');
    const base = await apply(state, BASE);
    const other = await apply(state, BASE.replaceAll('acme,', 'globex,').replace('tenant_id,', 'tenant_id,'));
    const acmeIds = new Set(Object.entries(other.id).filter(([k]) => k.startsWith('acme/')).map(([, v]) => v));
    for (const [k, v] of Object.entries(other.id)) if (k.startsWith('globex/')) expect(acmeIds.has(v)).toBe(false);
    for (const [k, v] of Object.entries(base.id)) expect(other.id[k]).toBe(v);
    expect(other.result.events.every((e) => e.tenantId === 'globex')).toBe(true);
    expect(other.result.events.flatMap((e) => e.ledger).every((l) => !String(l.CUSTOMER_ID_L).startsWith('acme'))).toBe(true);
    // An incremental globex record identical to an acme person joins globex's person only.
    const one = await apply(state, `${HEADER}\nglobex,9,ECOMMERCE,Alice,Jones,alice.jones@yahoo.com,,1990-02-03,Leeds\n`);
    expect(one.id['globex/9']).toBe(other.id['globex/3']);
    for (const [k, v] of Object.entries(other.id)) expect(one.id[k]).toBe(v);
  });

  it('placeholder e-mails and phones never link, incrementally either', async () => {
    const state = join(dir, 'g3');
    await apply(state, `${HEADER}\nacme,1,CRM,Maria,Garcia,test@test.com,555-555-5555,1982-11-30,Madrid\nacme,2,CRM,Peter,Brown,p.brown@aol.com,,1960-01-01,Leeds\n`);
    const next = await apply(state, `${HEADER}\nacme,3,POS,John,Doe,TEST@test.com,555 555 5555,1975-05-05,Madrid\nacme,4,POS,Jane,Roe,noemail@gmail.com,,1980-03-03,Madrid\nacme,5,POS,Jim,Poe,noemail@gmail.com,,1970-03-03,Madrid\n`);
    expect(new Set([next.id['acme/1'], next.id['acme/3'], next.id['acme/4'], next.id['acme/5']]).size).toBe(4);
    expect(next.result.newEdges).toBe(0);
  });

  it('a changed record that no longer matches is unlinked; a full refresh reuses the ids', async () => {
    const state = join(dir, 'g4');
    const base = await apply(state, BASE);
    const person = base.id['acme/3']!;
    const moved = await apply(state, `${HEADER}\nacme,4,ECOMMERCE,Bernard,Oyelaran,b.oyelaran@proton.me,,1950-07-07,Lagos\n`);
    expect(moved.id['acme/3']).toBe(person);
    expect(moved.id['acme/5']).toBe(person);
    expect(moved.id['acme/4']).not.toBe(person);
    expect(moved.result.changedRecords).toBe(1);
    expect(moved.result.events).toEqual([
      expect.objectContaining({ type: 'unlinked', before: [person], after: [person, moved.id['acme/4']], records: [{ sourceSystem: 'ECOMMERCE', customerId: '4' }] }),
      expect.objectContaining({ type: 'linked', before: [], after: [moved.id['acme/4']] }),
    ]);
    const full = await apply(state, `${HEADER}\n`, { fullRefresh: true });
    expect(full.result.mode).toBe('full');
    expect(full.id).toEqual(moved.id);
    expect(full.result.events).toEqual([]);
  });

});

