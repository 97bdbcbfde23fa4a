// One place that checks job parameters before any work: unknown names, required ones, and each value against its
// declared type (real dates, whole numbers in range, enums, table names, input locations that exist). `c360 job`,
// `c360 ingest`, the local runner and the ADF job compute all run jobs through runJob, which calls this first.
import { stat } from 'node:fs/promises';
import { ALL_CONTRACTS, getContract } from '../../schemas/index.ts';
import type { Lake } from '../lake/lake.ts';
import { joinLake } from '../lake/lake.ts';
import { isIsoDate } from './as-of.ts';
import { UsageError } from './errors.ts';
import type { Job, JobParamSpec } from './job.ts';

/** What a parameter's value must be. Absent or empty values are not checked (the job's default applies). */
export type ParamType =
  | { kind: 'string' }
  | { kind: 'date' }
  | { kind: 'bool' }
  | { kind: 'table' }
  | { kind: 'enum'; values: readonly string[] }
  | { kind: 'int'; min?: number; max?: number }
  | { kind: 'number'; min?: number; max?: number; exclusive?: boolean }
  /** A local folder or a lake prefix that exists. */
  | { kind: 'location' };

/** Checks one value; returns the reason it is wrong, or undefined. */
export function checkValue(type: ParamType | undefined, value: string): string | undefined {
  switch (type?.kind ?? 'string') {
    case 'string':
    case 'location':
      return undefined;
    case 'date':
      return isIsoDate(value) ? undefined : 'must be a real date YYYY-MM-DD';
    case 'bool':
      // ADF renders Bool parameters as True/False.
      return /^(true|false)$/i.test(value) ? undefined : "must be 'true' or 'false'";
    case 'table':
      try {
        getContract(value);
        return undefined;
      } catch {
        return `is not a table. Valid tables: ${ALL_CONTRACTS.map((c) => c.name).join(', ')}`;
      }
    case 'enum': {
      const values = (type as { values: readonly string[] }).values;
      return values.includes(value) ? undefined : `must be one of ${values.join(', ')}`;
    }
    case 'int':
    case 'number': {
      const t = type as { kind: 'int' | 'number'; min?: number; max?: number; exclusive?: boolean };
      const n = /^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$/.test(value.trim()) ? Number(value) : NaN;
      const what = t.kind === 'int' ? 'a whole number' : 'a number';
      const range = t.min !== undefined && t.max !== undefined ? ` in ${t.min}..${t.max}${t.exclusive ? ' (exclusive)' : ''}` : t.min !== undefined ? ` >= ${t.min}` : t.max !== undefined ? ` <= ${t.max}` : '';
      if (!Number.isFinite(n) || (t.kind === 'int' && !Number.isInteger(n))) return `must be ${what}${range}`;
      const below = t.min !== undefined && (t.exclusive ? n <= t.min : n < t.min);
      const above = t.max !== undefined && (t.exclusive ? n >= t.max : n > t.max);
      return below || above ? `must be ${what}${range}` : undefined;
    }
  }
}

/** Throws a UsageError naming every wrong parameter of a job and how to fix it. */
export function checkJobParams(job: Job, params: Record<string, string>): void {
  const specs = new Map((job.params ?? []).map((s) => [s.name, s]));
  const problems: string[] = [];
  for (const [name, value] of Object.entries(params)) {
    const spec = specs.get(name);
    if (!spec) {
      problems.push(`unknown parameter '${name}' (known: ${[...specs.keys()].join(', ') || 'none'})`);
      continue;
    }
    if (value === '') continue;
    const why = checkValue(spec.type, value);
    if (why) problems.push(`${name}='${value}' ${why}`);
  }
  for (const spec of specs.values()) {
    if (spec.required && !params[spec.name]) problems.push(`${spec.name} is required (${spec.description})`);
  }
  if (problems.length) throw new UsageError(`Job '${job.name}': ${problems.join('; ')}. \`c360 job ${job.name} --help\` lists its parameters`);
}

/** The `location` parameters must name a local folder or a lake prefix that exists (a typo loads nothing, silently). */
export async function checkJobLocations(job: Job, params: Record<string, string>, lake: Lake): Promise<void> {
  for (const spec of job.params ?? []) {
    const value = params[spec.name];
    if (spec.type?.kind !== 'location' || !value) continue;
    if (await stat(value).then((s) => s.isDirectory(), () => false)) continue;
    if (await lake.exists(joinLake(value))) continue;
    throw new UsageError(`Job '${job.name}': ${spec.name}='${value}' is neither a local folder nor a prefix in the lake (${lake.location}); check the path`);
  }
}

export type { JobParamSpec };
