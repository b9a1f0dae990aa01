/**
 * Test support: runs the reference SentencePiece command-line tools (`spm_encode`, `spm_decode`,
 * `spm_train`, Debian package `sentencepiece`) on whole files, one process per batch.
 *
 * @module
 */

const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
const encoder = new TextEncoder();

/** Whether the tools are installed, and if not, why the cross-checks are skipped. */
export interface SpmTools {
  available: boolean;
  reason: string;
}

let probed: SpmTools | null = null;

/**
 * Probes for `spm_encode`, `spm_decode` and `spm_train` on the PATH (once per process).
 *
 * @returns availability and a reason when absent
 */
export function spmTools(): SpmTools {
  if (probed) return probed;
  for (const tool of ["spm_encode", "spm_decode", "spm_train"]) {
    try {
      const r = new Deno.Command(tool, { args: ["--version"], stdout: "null", stderr: "null" })
        .outputSync();
      if (!r.success) {
        probed = { available: false, reason: `${tool} --version failed` };
        return probed;
      }
    } catch {
      probed = {
        available: false,
        reason: `${tool} is not on the PATH (apt-get install sentencepiece)`,
      };
      return probed;
    }
  }
  probed = { available: true, reason: "" };
  return probed;
}

/**
 * Test options for a test that needs the tools: ignored with a note when they are absent, except
 * under `CI=true`, where the test runs and fails.
 *
 * @param name the test name
 * @returns options for `Deno.test`
 */
export function spmTestOptions(name: string): { name: string; ignore: boolean } {
  const tools = spmTools();
  const ci = Deno.env.get("CI") === "true";
  if (!tools.available && !ci) {
    console.warn(`note: skipping "${name}": ${tools.reason}`);
    return { name, ignore: true };
  }
  return { name, ignore: false };
}

/** Fails the running test when the tools are missing (only reached under CI=true). */
export function requireSpmTools(): void {
  const tools = spmTools();
  if (!tools.available) {
    throw new Error(`CI=true but the SentencePiece tools are missing: ${tools.reason}`);
  }
}

async function run(cmd: string, args: string[], stdinFile: string): Promise<Uint8Array> {
  const file = await Deno.open(stdinFile, { read: true });
  const child = new Deno.Command(cmd, {
    args,
    stdin: "piped",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // Feed stdin while stdout is being read, or a large output would block both processes.
  const [, r] = await Promise.all([file.readable.pipeTo(child.stdin), child.output()]);
  if (!r.success) {
    throw new Error(`${cmd} ${args.join(" ")} failed: ${decoder.decode(r.stderr).slice(-2000)}`);
  }
  return r.stdout;
}

function splitLines(bytes: Uint8Array): string[] {
  const lines = decoder.decode(bytes).split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

/**
 * Writes lines to a temporary file (one "\n"-terminated line each).
 *
 * @param dir folder
 * @param name file name
 * @param lines the lines (must not contain "\n")
 * @returns the path
 */
export async function writeLines(dir: string, name: string, lines: readonly string[]) {
  const path = `${dir}/${name}`;
  await Deno.writeFile(path, encoder.encode(lines.map((l) => l + "\n").join("")));
  return path;
}

/**
 * `spm_encode` on a file of lines.
 *
 * @param model model path
 * @param inputFile file of lines
 * @param format `id` or `piece`
 * @returns one output line per input line
 */
export async function spmEncode(
  model: string,
  inputFile: string,
  format: "id" | "piece" = "id",
): Promise<string[]> {
  return splitLines(
    await run("spm_encode", [`--model=${model}`, `--output_format=${format}`], inputFile),
  );
}

/**
 * `spm_decode` on a file of space-separated id lines.
 *
 * @param model model path
 * @param idFile file of id lines
 * @returns one text line per id line
 */
export async function spmDecode(model: string, idFile: string): Promise<string[]> {
  return splitLines(await run("spm_decode", [`--model=${model}`, "--input_format=id"], idFile));
}

/**
 * Trains a model with `spm_train` (quietly) and returns its path.
 *
 * @param dir output folder
 * @param prefix model prefix
 * @param args extra `--flag=value` arguments
 * @returns the `.model` path
 */
export async function spmTrain(dir: string, prefix: string, args: string[]): Promise<string> {
  const r = await new Deno.Command("spm_train", {
    args: [`--model_prefix=${dir}/${prefix}`, "--minloglevel=2", "--num_threads=1", ...args],
    stdout: "piped",
    stderr: "piped",
  }).output();
  if (!r.success) throw new Error(`spm_train failed: ${decoder.decode(r.stderr).slice(-2000)}`);
  return `${dir}/${prefix}.model`;
}
