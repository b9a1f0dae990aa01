/** Private: float32 ↔ 16-bit conversions, backend/'s (one implementation). @module */
export { fromBfloat16Bits, fromHalfBits, toHalfBits } from "../deps.ts";
