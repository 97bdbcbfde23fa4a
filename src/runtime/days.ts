// Calendar arithmetic on ISO dates (YYYY-MM-DD), in UTC so no time zone or DST shift moves a day.

/** Adds n days (negative: subtracts) to an ISO date. */
export function addDays(date: string, n: number): string {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + n);
  return d.toISOString().slice(0, 10);
}
