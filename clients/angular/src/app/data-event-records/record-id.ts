/** A record id from the URL: a positive integer, or null for anything else ("abc", "1.5", "-2"). */
export function parseRecordId(value: string | null | undefined): number | null {
  if (!value || !/^\d{1,15}$/.test(value)) {
    return null;
  }
  const id = Number(value);
  return id > 0 ? id : null;
}
