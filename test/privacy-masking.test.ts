// The three forms of each PII mask (DuckDB SQL, JS, Snowflake policy text) give the analyst the same value.
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { MASK_RULES, maskSqlDuckdb, maskValue, type MaskedClass } from '../src/privacy/masking.ts';
import { renderMasking } from '../src/warehouse/snowflake/setup.ts';

const SAMPLES: Record<MaskedClass, string[]> = {
  name: ['Élodie', 'Jo', 'x'],
  email: ['jane.doe+tag@example.com', 'a@b.co'],
  phone: ['+14155550123', '0123'],
  address: ['1 Main St'],
  birth_date: ['1980-07-14', '2001-12-31'],
  free_text: ['called about a refund'],
  demographic: ['35-44'],
};

describe('PII masking', () => {
  it('masks every class the same in DuckDB SQL and in JS, and keeps nulls null', async () => {
    const engine = await Engine.open();
    try {
      for (const [cls, values] of Object.entries(SAMPLES) as Array<[MaskedClass, string[]]>) {
        for (const v of values) {
          const typed = MASK_RULES[cls].type === 'DATE' ? `DATE '${v}'` : `'${v.replaceAll("'", "''")}'`;
          const rows = await engine.all(`SELECT CAST(${maskSqlDuckdb(cls, typed)} AS VARCHAR) AS m`);
          expect(rows[0]!.m, `${cls} ${v}`).toBe(String(maskValue(cls, v)));
          expect(String(maskValue(cls, v))).not.toBe(v);
        }
        const nul = await engine.all(`SELECT ${maskSqlDuckdb(cls, `CAST(NULL AS ${MASK_RULES[cls].type})`)} AS m`);
        expect(nul[0]!.m).toBeNull();
        expect(maskValue(cls, null)).toBeNull();
      }
      expect(maskValue('none', 'clear')).toBe('clear');
    } finally {
      engine.close();
    }
  });

  it('renders one Snowflake policy per class in use, from the same rules', () => {
    const sql = renderMasking({ database: 'C360' } as Parameters<typeof renderMasking>[0]).join('\n');
    expect(sql).toContain(`PII_EMAIL_MASK AS (VAL VARCHAR) RETURNS VARCHAR`);
    expect(sql).toContain(MASK_RULES.email.snowflake);
    expect(sql).toContain(MASK_RULES.birth_date.snowflake);
  });
});
