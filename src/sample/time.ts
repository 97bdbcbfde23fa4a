// Time arithmetic in whole UTC seconds, and fast canonical text: 'YYYY-MM-DD' and 'YYYY-MM-DD HH:MM:SS'.

export const DAY = 86400;
export const HOUR = 3600;
export const MINUTE = 60;

const dayCache = new Map<number, string>();

/** Epoch seconds of a 'YYYY-MM-DD' date at 00:00 UTC. */
export function parseDay(iso: string): number {
  const ms = Date.parse(`${iso}T00:00:00Z`);
  if (!/^\d{4}-\d{2}-\d{2}$/.test(iso) || Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== iso) {
    throw new Error(`not a valid date YYYY-MM-DD: '${iso}'`);
  }
  return ms / 1000;
}

/** 'YYYY-MM-DD' of the day containing an epoch second. */
export function formatDate(sec: number): string {
  const day = Math.floor(sec / DAY);
  let s = dayCache.get(day);
  if (s === undefined) {
    s = new Date(day * DAY * 1000).toISOString().slice(0, 10);
    dayCache.set(day, s);
  }
  return s;
}

const two = (n: number) => (n < 10 ? `0${n}` : String(n));

/** 'YYYY-MM-DD HH:MM:SS' (UTC) of an epoch second. */
export function formatTimestamp(sec: number): string {
  const whole = Math.floor(sec);
  const rem = whole - Math.floor(whole / DAY) * DAY;
  return `${formatDate(whole)} ${two(Math.floor(rem / HOUR))}:${two(Math.floor((rem % HOUR) / MINUTE))}:${two(rem % MINUTE)}`;
}

/** 0 = Sunday ... 6 = Saturday. */
export function weekday(sec: number): number {
  return (Math.floor(sec / DAY) + 4) % 7;
}

/** Day of year 0..365. */
export function dayOfYear(sec: number): number {
  const d = new Date(Math.floor(sec) * 1000);
  return Math.floor((Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate()) - Date.UTC(d.getUTCFullYear(), 0, 1)) / 86400000);
}
