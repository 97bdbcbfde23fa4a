// The job image (Dockerfile) installs production dependencies only, so nothing the CLI loads at start may import a
// dev dependency. No Docker engine here: this checks the inputs of the build instead of building it.
import { readdirSync, readFileSync } from 'node:fs';
import { builtinModules } from 'node:module';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { dependencies: Record<string, string>; devDependencies: Record<string, string> };
/** Modules imported only lazily by commands that need dev tooling (documented in docs/deployment.md). */
const DEV_ONLY_FILES = new Set(['src/adf/schema-check.ts']);

function sources(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(join(ROOT, dir), { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...sources(p));
    else if (/\.(ts|mjs)$/.test(e.name)) out.push(p);
  }
  return out;
}

function packageOf(spec: string): string | undefined {
  if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('node:') || builtinModules.includes(spec.split('/')[0]!)) return undefined;
  const parts = spec.split('/');
  return spec.startsWith('@') ? `${parts[0]}/${parts[1]}` : parts[0];
}

describe('job image', () => {
  it('builds FROM node:20-slim with production dependencies and runs the c360 CLI', () => {
    const dockerfile = readFileSync(join(ROOT, 'Dockerfile'), 'utf8');
    expect(dockerfile).toMatch(/^FROM node:20-slim$/m);
    expect(dockerfile).toMatch(/npm ci --omit=dev/);
    expect(dockerfile).toMatch(/^ENTRYPOINT \["node", "bin\/c360.mjs"\]$/m);
    expect(pkg.dependencies).toHaveProperty('tsx');
    const ignore = readFileSync(join(ROOT, '.dockerignore'), 'utf8').split('\n');
    for (const p of ['node_modules', '.c360', 'test', '.git']) expect(ignore).toContain(p);
  });

  it('has no static import of a dev dependency in what the CLI loads', () => {
    const offenders: string[] = [];
    for (const file of ['bin', 'src', 'jobs', 'pipelines', 'schemas'].flatMap(sources)) {
      const rel = relative(ROOT, join(ROOT, file)).split('\\').join('/');
      if (DEV_ONLY_FILES.has(rel)) continue;
      const text = readFileSync(join(ROOT, file), 'utf8');
      for (const m of text.matchAll(/^\s*(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]|^\s*import\s+['"]([^'"]+)['"]/gm)) {
        const spec = m[1] ?? m[2]!;
        if (/^\s*import\s+type\s/.test(m[0])) continue;
        const name = packageOf(spec);
        if (name && !(name in pkg.dependencies)) offenders.push(`${rel}: ${spec}${name in pkg.devDependencies ? ' (dev dependency)' : ' (not a dependency)'}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
