/** Private validation helpers shared by diffusion/ files. @module */

/** Throws a RangeError unless `value` is a positive integer. */
export function positiveInt(action: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value <= 0) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be a positive integer: current value is ${fmt(value)}`,
    );
  }
  return value;
}

/** Throws a RangeError unless `value` is a non-negative integer. */
export function nonNegativeInt(action: string, name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isInteger(value) || value < 0) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be a non-negative integer: current value is ${
        fmt(value)
      }`,
    );
  }
  return value;
}

/** Throws a RangeError unless `value` is a finite number in [min, max]. */
export function inRange(
  action: string,
  name: string,
  value: unknown,
  min: number,
  max: number,
): number {
  if (typeof value !== "number" || !Number.isFinite(value) || value < min || value > max) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be a number in [${min}, ${max}]: current value is ${
        fmt(value)
      }`,
    );
  }
  return value;
}

/** Throws a RangeError unless `value` is one of `choices`. */
export function oneOf<T extends string>(
  action: string,
  name: string,
  value: unknown,
  choices: readonly T[],
): T {
  if (typeof value !== "string" || !(choices as readonly string[]).includes(value)) {
    throw new RangeError(
      `Cannot ${action} as '${name}' must be one of ${
        choices.map((c) => `"${c}"`).join(", ")
      }: current value is ${fmt(value)}`,
    );
  }
  return value as T;
}

/** Formats a value for an error message. */
export function fmt(value: unknown): string {
  if (typeof value === "string") return `"${value}"`;
  if (Array.isArray(value)) return `[${value.map(fmt).join(", ")}]`;
  if (value !== null && typeof value === "object") return JSON.stringify(value);
  return String(value);
}
