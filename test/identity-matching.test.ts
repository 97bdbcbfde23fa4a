// Comparisons and blocking as SQL text and on DuckDB; EM recovering known parameters.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { BLOCKING_RULES, COMPARISONS, levelLabel, type Comparison } from '../src/identity/model.ts';
import { blockingRuleSql, blockingSql, gammaSql, ruleMaskSql, weightSql } from '../src/identity/sql.ts';
import { nameOnlySql } from '../src/identity/resolve.ts';
import { estimateGlobalPrior, runEm, type Pattern } from '../src/identity/em.ts';
import { standardise } from '../src/identity/standardise.ts';

const comparison = (name: string) => COMPARISONS.find((c) => c.name === name)!;

describe('generated SQL', () => {
  it('a blocking rule joins within the tenant on its keys, each pair once', () => {
    const sql = blockingRuleSql(BLOCKING_RULES.find((r) => r.name === 'dob+surname_sdx')!, 3);
    expect(sql).toBe(
      'SELECT l.rid AS rid_l, r.rid AS rid_r, 3 AS rule FROM id_std l JOIN id_std r ON l.tenant_id = r.tenant_id AND l.dob = r.dob AND l.ln_sdx = r.ln_sdx AND l.rid < r.rid',
    );
  });
  it('the swapped-names rule is generated in both orientations and the union keeps the first rule per pair', () => {
    const sql = blockingSql([BLOCKING_RULES.find((r) => r.name === 'names_swapped')!]);
    expect(sql).toContain('(l.fn = r.ln AND l.ln = r.fn)');
    expect(sql).toContain('(r.fn = l.ln AND r.ln = l.fn)');
    expect(sql).toContain('min(rule) AS rule');
  });
  it('a comparison is a CASE from null (-1) through its levels (best = number of levels) to else (0)', () => {
    expect(gammaSql(comparison('phone'))).toBe(
      'CASE WHEN l.phone_e164 IS NULL OR r.phone_e164 IS NULL THEN -1 WHEN l.phone_e164 = r.phone_e164 THEN 2 WHEN right(l.phone_e164, 7) = right(r.phone_e164, 7) THEN 1 ELSE 0 END::TINYINT AS g_phone',
    );
    expect(levelLabel(comparison('phone'), 2)).toBe('exact');
    expect(levelLabel(comparison('phone'), 0)).toBe('else');
    expect(levelLabel(comparison('phone'), -1)).toBe('null');
  });
  it('rule membership is a bit mask over all rules', () => {
    const sql = ruleMaskSql([BLOCKING_RULES[1]!, BLOCKING_RULES[2]!]);
    expect(sql).toContain('THEN 1 ELSE 0');
    expect(sql).toContain('THEN 2 ELSE 0');
  });
  it('weights are log2(m/u); exact levels with term frequencies divide by the value frequency', () => {
    const c = comparison('city');
    const sql = weightSql(c, {
      fields: { city: { m: { 0: 0.1, 1: 0.2, 2: 0.7 }, u: { 0: 0.9, 1: 0.05, 2: 0.05 } } },
      rules: [], priorMode: 'global', globalPrior: 0.001, lambda: 0.1, minTf: 0.001, iterations: 1, converged: true,
    });
    expect(sql).toContain('WHEN g_city = 2 THEN log2(0.700000000000 / greatest(coalesce(tf_city, 0.0500000000000), 0.00100000000000))');
    expect(sql).toContain(`WHEN g_city = 1 THEN ${Math.log2(0.2 / 0.05).toPrecision(12)}`);
  });
});

describe('evidence rules on DuckDB', () => {
  const params = {
    fields: { city: { m: { 0: 0.1, 1: 0.2, 2: 0.7 }, u: { 0: 0.9, 1: 0.05, 2: 0.05 } } },
    rules: [], priorMode: 'global' as const, globalPrior: 0.001, lambda: 0.1, minTf: 0.001, iterations: 1, converged: true,
  };
  it('city agreement implied by the same street address weighs nothing; disagreement still counts', async () => {
    const engine = await Engine.open();
    try {
      const sql = weightSql(comparison('city'), params, { address: comparison('address').levels.length }).replace(/ AS w_city$/, '');
      const best = comparison('address').levels.length;
      const rows = await engine.all<{ w: number }>(`SELECT ${sql} AS w FROM (VALUES (1, ${best}, 2, 0.05), (2, 1, 2, 0.05), (3, ${best}, 0, 0.05)) t(i, g_address, g_city, tf_city) ORDER BY i`);
      expect(rows.map((r) => Number(r.w.toFixed(6)))).toEqual([0, Number(Math.log2(0.7 / 0.05).toFixed(6)), Number(Math.log2(0.1 / 0.9).toFixed(6))]);
    } finally {
      engine.close();
    }
  });
  it('a probabilistic link needs an agreeing field besides the names; a name-derived email local part is not one', async () => {
    const engine = await Engine.open();
    try {
      const cs = COMPARISONS.filter((c) => ['first_name', 'last_name', 'email', 'city', 'address'].includes(c.name));
      const email = comparison('email');
      const localPart = email.levels.length - email.levels.findIndex((l) => l.label === 'local-part');
      // A shared city corroborates only when no street address could be compared (row 3 vs row 5).
      const rows = await engine.all<{ x: boolean }>(`SELECT ${nameOnlySql(cs)} AS x FROM (VALUES
        (1, NULL, 7, 5, -1, 0.0, -1, 0.0, -1, 0.0),
        (2, NULL, 7, 5, ${localPart}, 1.5, -1, 0.0, -1, 0.0),
        (3, NULL, 7, 5, -1, 0.0, 2, 4.0, -1, 0.0),
        (4, 'email', 7, 5, 0, -2.0, -1, 0.0, -1, 0.0),
        (5, NULL, 7, 5, -1, 0.0, 2, 4.0, 0, -3.0),
        (6, NULL, 7, 5, -1, 0.0, 2, 0.0, 3, 9.0)
      ) t(i, det_rule, g_first_name, g_last_name, g_email, w_email, g_city, w_city, g_address, w_address) ORDER BY i`);
      expect(rows.map((r) => r.x)).toEqual([true, true, false, false, true, false]);
    } finally {
      engine.close();
    }
  });
});

describe('comparison levels on DuckDB', () => {
  let engine: Engine;
  beforeAll(async () => {
    engine = await Engine.open();
    await engine.run(`CREATE TABLE people AS SELECT * FROM (VALUES
      (0, 'Robert', 'Smith', 'rob.smith@gmail.com', '(415) 555-2671', '1971-06-24', '12 Main Street', 'London', '94105'),
      (1, 'Bob', 'Smith', 'robsmith+x@gmail.com', '+1 415 555 2671', '1971-06-24', '12 Main St', 'Lonon', '94105'),
      (2, 'Smith', 'Robert', NULL, '(415) 555-9999', '1971-06-25', NULL, 'london', '94106'),
      (3, 'Roberta', 'Smyth', 'rs@acme.com', NULL, '1981-01-02', '9 Elm Road', 'Paris', '10001'),
      (4, 'Rob', 'Smith', ' ROB.SMITH+news@gmail.com', NULL, NULL, NULL, NULL, NULL),
      (5, 'Smiht', 'Robert', NULL, NULL, NULL, NULL, NULL, NULL)
    ) t(rid, FIRST_NAME, LAST_NAME, EMAIL_ADDRESS, PHONE_NUMBER, DATE_OF_BIRTH, ADDRESS_LINE_1, CITY, ZIP_CODE)`);
    await standardise(engine, 'people');
  });
  afterAll(() => engine.close());

  const level = async (c: Comparison, a: number, b: number) =>
    levelLabel(c, Number(await engine.scalar(`SELECT ${gammaSql(c).replace(/ AS g_\w+$/, '')} FROM id_std l, id_std r WHERE l.rid = ${a} AND r.rid = ${b}`)));

  it('first names: nickname, swapped, Jaro-Winkler bands, null', async () => {
    expect(await level(comparison('first_name'), 0, 1)).toBe('nickname');
    expect(await level(comparison('first_name'), 0, 2)).toBe('swapped');
    expect(await level(comparison('first_name'), 0, 5)).toBe('swapped'); // swapped, one of them mistyped
    expect(await level(comparison('last_name'), 0, 5)).toBe('swapped');
    expect(await level(comparison('first_name'), 0, 3)).toBe('jw>=0.92');
  });
  it('surnames: exact, soundex-or-better, else', async () => {
    expect(await level(comparison('last_name'), 0, 1)).toBe('exact');
    expect(['jw>=0.92', 'jw>=0.80']).toContain(await level(comparison('last_name'), 0, 3));
  });
  it('emails: the same address (case, blanks, plus tag aside), else the Gmail match key; phones on E.164 or the last 7 digits', async () => {
    expect(await level(comparison('email'), 0, 4)).toBe('exact');
    expect(await level(comparison('email'), 0, 1)).toBe('provider-key');
    expect(await level(comparison('email'), 1, 4)).toBe('provider-key');
    expect(await level(comparison('email'), 0, 2)).toBe('null');
    expect(await level(comparison('phone'), 0, 1)).toBe('exact');
    expect(await level(comparison('phone'), 0, 2)).toBe('else');
  });
  it('dates, cities, postcodes and addresses', async () => {
    expect(await level(comparison('date_of_birth'), 0, 1)).toBe('exact');
    expect(await level(comparison('date_of_birth'), 0, 2)).toBe('dl<=1');
    expect(await level(comparison('date_of_birth'), 0, 3)).toBe('else');
    expect(await level(comparison('city'), 0, 1)).toBe('jw>=0.85');
    expect(await level(comparison('city'), 0, 2)).toBe('exact');
    expect(await level(comparison('postcode'), 0, 2)).toBe('dl<=1');
    expect(await level(comparison('address'), 0, 1)).toBe('exact');
  });
});

describe('EM', () => {
  // Two binary-ish fields with known m and u; patterns generated with exact expected counts.
  const cA: Comparison = { name: 'a', blockedBy: [], requires: [], nullSql: 'false', levels: [{ label: 'exact', sql: 'true' }] };
  const cB: Comparison = { name: 'b', blockedBy: [], requires: [], nullSql: 'false', levels: [{ label: 'exact', sql: 'true' }, { label: 'close', sql: 'true' }] };
  const cC: Comparison = { name: 'c', blockedBy: [], requires: [], nullSql: 'false', levels: [{ label: 'exact', sql: 'true' }] };
  const truth = {
    lambda: 0.2,
    m: { a: { 0: 0.1, 1: 0.9 }, b: { 0: 0.1, 1: 0.2, 2: 0.7 }, c: { 0: 0.2, 1: 0.8 } } as Record<string, Record<number, number>>,
    u: { a: { 0: 0.95, 1: 0.05 }, b: { 0: 0.8, 1: 0.15, 2: 0.05 }, c: { 0: 0.9, 1: 0.1 } } as Record<string, Record<number, number>>,
  };
  const patterns: Pattern[] = [];
  for (const a of [0, 1]) for (const b of [0, 1, 2]) for (const c of [0, 1]) {
    const pm = truth.m.a![a]! * truth.m.b![b]! * truth.m.c![c]!;
    const pu = truth.u.a![a]! * truth.u.b![b]! * truth.u.c![c]!;
    patterns.push({ n: 100_000 * (truth.lambda * pm + (1 - truth.lambda) * pu), g_a: a, g_b: b, g_c: c } as Pattern);
  }

  it('recovers m and lambda with u fixed', () => {
    const res = runEm([cA, cB, cC], patterns, truth.u);
    expect(res.converged).toBe(true);
    expect(res.lambda).toBeCloseTo(0.2, 3);
    expect(res.m.a![1]).toBeCloseTo(0.9, 3);
    expect(res.m.b![2]).toBeCloseTo(0.7, 3);
    expect(res.m.b![1]).toBeCloseTo(0.2, 3);
    expect(res.m.c![1]).toBeCloseTo(0.8, 3);
  });
  it('estimates the prior over all pairs from candidate posteriors', () => {
    // Candidates from blocking: 2,000 matches and 8,000 non-matches (whose fields agree as rarely as random
    // pairs' do) among 10,000,000 pairs: the prior is 2,000 / 10,000,000.
    const u = { a: { 0: 0.999, 1: 0.001 }, b: { 0: 0.998, 1: 0.001, 2: 0.001 }, c: { 0: 0.998, 1: 0.002 } } as Record<string, Record<number, number>>;
    const cands: Pattern[] = [];
    for (const a of [0, 1]) for (const b of [0, 1, 2]) for (const c of [0, 1]) {
      const pm = truth.m.a![a]! * truth.m.b![b]! * truth.m.c![c]!;
      const pu = u.a![a]! * u.b![b]! * u.c![c]!;
      cands.push({ n: 2000 * pm + 8000 * pu, g_a: a, g_b: b, g_c: c } as Pattern);
    }
    const prior = estimateGlobalPrior([cA, cB, cC], cands, truth.m, u, 10_000_000);
    expect(prior).toBeGreaterThan(0.00018);
    expect(prior).toBeLessThan(0.00022);
  });
});
