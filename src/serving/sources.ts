// Where a served snapshot comes from: the local DuckDB warehouse (the tables of the latest load) or the Gold
// snapshot folders of the lake (any as-of date; in Azure the server has no warehouse of its own). Absent tables or
// datasets read as empty, so the API works before every part of the pipeline has run.
import { litList } from '../engine/duckdb.ts';
import { getDataset } from '../catalogue/index.ts';
import type { Lake } from '../lake/lake.ts';
import { GOLD_ROOT } from '../gold/paths.ts';
import {
  DIM_CUSTOMER, IDENTITY_MAP, MODEL_REGISTRY, PRODUCTS, RECOMMENDATIONS, REDIRECTS_TABLE, RISK_SCORES, SEGMENTS,
} from './fields.ts';
import type { BuildOptions, SnapshotRelations } from './snapshot.ts';

const WH = 'wh';
const qualified = (schema: string, table: string) => `"${WH}"."${schema}"."${table}"`;

/** Build options for a copy of the warehouse file's latest load. */
export function warehouseSource(path: string): Pick<BuildOptions, 'attach' | 'relations' | 'source'> {
  return {
    attach: { [WH]: path },
    source: `warehouse ${path}`,
    relations: async (has) => {
      const rel = async (t: { schema: string; name: string }) => ((await has(WH, t.schema, t.name)) ? qualified(t.schema, t.name) : null);
      if (!(await has(WH, DIM_CUSTOMER.schema, DIM_CUSTOMER.name))) {
        throw new Error(`The warehouse ${path} has no ${DIM_CUSTOMER.schema}.${DIM_CUSTOMER.name}: run the pipeline (c360 run) first`);
      }
      return {
        profile: qualified(DIM_CUSTOMER.schema, DIM_CUSTOMER.name),
        identityMap: await rel(IDENTITY_MAP),
        riskScores: await rel(RISK_SCORES),
        segments: await rel(SEGMENTS),
        recommendations: await rel(RECOMMENDATIONS),
        products: await rel(PRODUCTS),
        registry: await rel(MODEL_REGISTRY),
        redirects: await rel(REDIRECTS_TABLE),
      };
    },
  };
}

const PROFILE_DATASET = DIM_CUSTOMER.source;

/** As-of dates with a Gold customer profile in the lake, oldest first. */
export async function lakeAsOfDates(lake: Lake): Promise<string[]> {
  const files = await lake.list(`${GOLD_ROOT}/${PROFILE_DATASET}`);
  const dates = new Set<string>();
  for (const f of files) {
    const m = /\/as_of_date=(\d{4}-\d{2}-\d{2})\//.exec(f.path);
    if (m && f.path.endsWith('.parquet')) dates.add(m[1]!);
  }
  return [...dates].sort();
}

/** The Parquet files of a Gold dataset for a date (local paths DuckDB reads), or null when it has none. */
async function datasetRelation(lake: Lake, dataset: string, asOf: string): Promise<string | null> {
  let path: string;
  let current = false;
  try {
    const ds = getDataset(dataset);
    path = ds.path;
    current = ds.maintenance === 'merge-by-key'; // one current version (identity redirects), no as-of folders
  } catch {
    return null; // not declared (yet): absent
  }
  const files = (await lake.list(current ? path : `${path}/as_of_date=${asOf}`)).filter((f) => f.path.endsWith('.parquet'));
  if (files.length === 0) return null;
  const local = await Promise.all(files.map((f) => lake.localPath(f.path)));
  return `read_parquet(${litList(local)}, union_by_name = true)`;
}

/** A lake snapshot needs the profile and the identity map of the date; the other datasets may be absent (empty). */
export async function lakeRelations(lake: Lake, asOf: string): Promise<SnapshotRelations | null> {
  const rel = (t: { source: string } | string) => datasetRelation(lake, typeof t === 'string' ? t : t.source, asOf);
  const profile = await rel(DIM_CUSTOMER);
  const identityMap = await rel(IDENTITY_MAP);
  if (!profile || !identityMap) return null;
  return {
    profile, identityMap,
    riskScores: await rel(RISK_SCORES), segments: await rel(SEGMENTS), recommendations: await rel(RECOMMENDATIONS),
    products: await rel(PRODUCTS), registry: await rel(MODEL_REGISTRY), redirects: await rel(REDIRECTS_TABLE.dataset),
  };
}

/** Build options for the lake's snapshot of one as-of date (null when that date has no complete profile). */
export async function lakeSource(lake: Lake, asOf: string): Promise<Pick<BuildOptions, 'relations' | 'source' | 'asOf'> | null> {
  const relations = await lakeRelations(lake, asOf);
  return relations ? { relations, source: `lake ${lake.location} as_of_date=${asOf}`, asOf } : null;
}
