/**
 * Renders a value for an error message (JSON, shortened to 60 characters; `NaN`, `Infinity` and
 * `undefined` as such): params/' `showValue`, so that the server and the command lines show a
 * bad value alike.
 *
 * @module
 */
export { showValue } from "../params/mod.ts";
