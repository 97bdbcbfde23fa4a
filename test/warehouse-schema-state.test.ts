// The local load applies the warehouse DDL (~900 statements, mostly COMMENTs) only when the model renders other DDL
// than what OPS.SCHEMA_STATE says the last load applied, or on a full refresh (force).
import { describe, expect, it } from 'vitest';
import { Engine } from '../src/engine/duckdb.ts';
import { ensureWarehouseSchema } from '../src/warehouse/duckdb-loader.ts';
import { getTable } from '../src/warehouse/model.ts';

describe('warehouse schema state', () => {
  it('skips DDL it applied already, applies a changed model, and applies everything when forced', async () => {
    const e = await Engine.open();
    try {
      const product = getTable('CUSTOMER_360', 'DIM_PRODUCT');
      const views = () => e.all<{ v: string }>(`SELECT schema_name || '.' || view_name AS v FROM duckdb_views() WHERE NOT internal ORDER BY 1`);
      const comment = () => e.scalar(`SELECT comment FROM duckdb_tables() WHERE schema_name = 'CUSTOMER_360' AND table_name = 'DIM_PRODUCT'`);
      await ensureWarehouseSchema(e, [product], { loadId: 'L1' });
      expect(await views()).toEqual([{ v: 'ANALYST_CUSTOMER_360.DIM_PRODUCT' }]);
      expect(await e.all(`SELECT _LOAD_ID FROM OPS.SCHEMA_STATE`)).toEqual([{ _LOAD_ID: 'L1' }]);
      // A drift the schema state does not see: the same DDL is not applied again ...
      await e.run(`DROP VIEW ANALYST_CUSTOMER_360.DIM_PRODUCT`);
      await ensureWarehouseSchema(e, [product], { loadId: 'L2' });
      expect(await views()).toEqual([]);
      expect(await e.all(`SELECT _LOAD_ID FROM OPS.SCHEMA_STATE`)).toEqual([{ _LOAD_ID: 'L1' }]);
      // ... a full refresh applies it whatever the state says
      await ensureWarehouseSchema(e, [product], { loadId: 'L3', force: true });
      expect(await views()).toEqual([{ v: 'ANALYST_CUSTOMER_360.DIM_PRODUCT' }]);
      // A model whose DDL differs (here a table comment) is applied.
      await ensureWarehouseSchema(e, [{ ...product, comment: 'changed comment' }], { loadId: 'L4' });
      expect(await comment()).toBe('changed comment');
      expect(await e.all(`SELECT _LOAD_ID FROM OPS.SCHEMA_STATE`)).toEqual([{ _LOAD_ID: 'L4' }]);
    } finally {
      e.close();
    }
  });
});
