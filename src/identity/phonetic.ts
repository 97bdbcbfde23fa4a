// American Soundex (the phonetic comparison level). Computed in TypeScript over the distinct folded names only,
// then joined back in SQL, so a million records cost a few thousand calls.
const CODES: Record<string, string> = {
  b: '1', f: '1', p: '1', v: '1',
  c: '2', g: '2', j: '2', k: '2', q: '2', s: '2', x: '2', z: '2',
  d: '3', t: '3',
  l: '4',
  m: '5', n: '5',
  r: '6',
};

export function soundex(name: string | null | undefined): string | null {
  const s = (name ?? '').toLowerCase().replace(/[^a-z]/g, '');
  if (!s) return null;
  let out = s[0]!.toUpperCase();
  let last = CODES[s[0]!] ?? '';
  for (let i = 1; i < s.length && out.length < 4; i++) {
    const ch = s[i]!;
    const code = CODES[ch] ?? '';
    if (code && code !== last) out += code;
    // h and w do not separate letters with the same code; vowels do.
    if (ch !== 'h' && ch !== 'w') last = code;
  }
  return out.padEnd(4, '0');
}
