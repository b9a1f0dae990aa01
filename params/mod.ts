/**
 * params/: each job's parameters declared once (type, default, bounds, help text, option and RPC
 * field name), and what is derived from the declaration: the command-line parser and usage text
 * ({@link parseCliArgs}, {@link usageText}, the frame {@link runCli} every entry point runs in),
 * the checks of the library functions ({@link resolveParams}) and the pieces rpc/'s schema builds
 * on ({@link paramJsonSchema}, {@link paramProblem}). Messages name the value the way the caller
 * wrote it: `--batch` on the command line, `instanceBatch` in code and over RPC.
 *
 * A package of its own at the bottom of the dependency order (it imports nothing of ours, like
 * tokenizer/) because every package with an entry point (tokenizer, diffusion, training, superres,
 * eval, rpc, bench, tools) declares its jobs with it, and a package may only depend on packages
 * below it.
 *
 * @example
 * ```ts
 * import { declareParams, parseCliArgs, resolveParams } from "./mod.ts";
 * const params = declareParams("train", {
 *   instanceBatch: { type: "integer", min: 1, max: 64, default: 4, option: "batch", help: "batch" },
 * });
 * try {
 *   parseCliArgs(params, ["--batch", "0"]);
 * } catch (e) {
 *   console.log((e as Error).message);
 *   // Cannot train as '--batch' must be an integer ≥ 1 and ≤ 64: current value is "0"
 * }
 * console.log(resolveParams(params, {}).instanceBatch); // 4
 * ```
 *
 * @module
 */
export {
  type BooleanParam,
  declareParams,
  describeParam,
  type EnumParam,
  fromFields,
  type NumberParam,
  type Param,
  type ParamCommon,
  type ParamDeclaration,
  ParamError,
  type ParamFields,
  type ParamInput,
  paramJsonSchema,
  type ParamNaming,
  paramProblem,
  type ParamSpecs,
  type ParamValue,
  type ParamValues,
  resolveParams,
  showValue,
  type StringParam,
} from "./declare_params.ts";
export {
  parseCliArgs,
  type ParseCliArgsOptions,
  type ParsedCliArgs,
  usageText,
  type UsageTextOptions,
} from "./parse_cli_args.ts";
export {
  type CliContext,
  parseCliOrExit,
  reportCliError,
  runCli,
  type RunCliOptions,
  wasmHeapHint,
} from "./run_cli.ts";
export { UsageError } from "./usage_error.ts";
