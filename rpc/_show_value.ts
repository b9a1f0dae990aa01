/**
 * Renders a value for an error message: JSON, shortened to 60 characters; `NaN`, `Infinity` and
 * `undefined` as such.
 *
 * @param value Anything.
 * @returns The text.
 */
export function showValue(value: unknown): string {
  if (typeof value === "number" && !Number.isFinite(value)) return String(value);
  if (value === undefined) return "undefined";
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = String(value);
  }
  return text.length > 60 ? `${text.slice(0, 57)}...` : text;
}
