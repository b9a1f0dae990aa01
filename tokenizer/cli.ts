/**
 * Command line for the tokenizer (`deno task tokenize …`, `deno task identifier …`):
 *
 * ```sh
 * deno run -A tokenizer/cli.ts tokenize [--model FILE] [--pieces] [--decode]   < lines
 * deno run -A tokenizer/cli.ts identifier [--model FILE] [--k N] [--seed S] [--range 5000-10000]
 * ```
 *
 * `tokenize` works like `spm_encode`/`spm_decode`: one output line per input line. The default
 * model is the shipped T5 vocabulary.
 *
 * @module
 */
import { parseArgs } from "node:util";
import { DEFAULT_VOCABULARY_URL } from "./default_vocabulary.ts";
import { drawIdentifier } from "./identifier.ts";
import { type ModelSource, SentencePieceProcessor } from "./sentence_piece_processor.ts";

const USAGE = `Usage: tokenizer/cli.ts <command> [options]

Commands:
  tokenize     encode (or decode) stdin line by line, like spm_encode / spm_decode
  identifier   draw a rare-token identifier [V] (DreamBooth §4.1)

Run 'tokenizer/cli.ts <command> --help' for the options of a command.`;

const TOKENIZE_USAGE = `Usage: tokenizer/cli.ts tokenize [--model FILE] [--pieces] [--decode]

Reads lines from stdin and prints one line per input line:
  (default)          space-separated piece ids          (spm_encode --output_format=id)
  --pieces           space-separated pieces             (spm_encode --output_format=piece)
  --decode           ids in, text out                   (spm_decode --input_format=id)
  --decode --pieces  pieces in, text out                (spm_decode --input_format=piece)

Options:
  --model FILE   SentencePiece .model file or URL (default: the shipped T5 vocabulary)
  --help         show this help`;

const IDENTIFIER_USAGE =
  `Usage: tokenizer/cli.ts identifier [--model FILE] [--k N] [--seed S] [--range LO-HI]

Draws k rare pieces uniformly without replacement from the ids LO..HI (inclusive) whose pieces
have 1-3 characters and no whitespace (a leading word-boundary marker does not count), and
redraws until the text re-encodes to exactly those ids. Prints the identifier, its ids and
pieces, and the size of the candidate pool.

Options:
  --model FILE    SentencePiece .model file or URL (default: the shipped T5 vocabulary)
  --k N           number of pieces, 1, 2 or 3 (default: drawn with the seed)
  --seed S        integer seed (default 0)
  --range LO-HI   id range (default 5000-10000)
  --help          show this help`;

class UsageError extends Error {}

async function loadModel(model: string | undefined): Promise<SentencePieceProcessor> {
  const source: ModelSource = model ?? DEFAULT_VOCABULARY_URL;
  return await SentencePieceProcessor.load(source);
}

async function* lines(): AsyncGenerator<Uint8Array> {
  let pending = new Uint8Array(0);
  for await (const chunk of Deno.stdin.readable) {
    let buf: Uint8Array;
    if (pending.length > 0) {
      buf = new Uint8Array(pending.length + chunk.length);
      buf.set(pending);
      buf.set(chunk, pending.length);
    } else buf = chunk;
    let start = 0;
    for (let i = buf.indexOf(10); i >= 0; i = buf.indexOf(10, start)) {
      yield buf.subarray(start, i);
      start = i + 1;
    }
    pending = buf.slice(start);
  }
  if (pending.length > 0) yield pending;
}

async function tokenize(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      pieces: { type: "boolean", default: false },
      decode: { type: "boolean", default: false },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(TOKENIZE_USAGE);
    return;
  }
  const sp = await loadModel(values.model);
  const encoder = new TextEncoder();
  const decoder = new TextDecoder("utf-8", { ignoreBOM: true });
  const out: string[] = [];
  let size = 0;
  const flush = async () => {
    if (out.length === 0) return;
    const bytes = encoder.encode(out.join(""));
    out.length = 0;
    size = 0;
    for (let off = 0; off < bytes.length;) off += await Deno.stdout.write(bytes.subarray(off));
  };
  let lineNo = 0;
  for await (const line of lines()) {
    lineNo++;
    let result: string;
    if (!values.decode) {
      result = values.pieces ? sp.encodeAsPieces(line).join(" ") : sp.encode(line).join(" ");
    } else {
      const fields = decoder.decode(line).split(" ").filter((f) => f.length > 0);
      if (values.pieces) result = sp.decodePieces(fields);
      else {
        const ids = fields.map((f) => {
          if (!/^\d+$/.test(f)) {
            throw new UsageError(`line ${lineNo}: '${f}' is not a piece id`);
          }
          return Number(f);
        });
        try {
          result = sp.decode(ids);
        } catch (err) {
          throw new UsageError(`line ${lineNo}: ${(err as Error).message}`);
        }
      }
    }
    out.push(result, "\n");
    size += result.length;
    if (size > 1 << 16) await flush();
  }
  await flush();
}

function parseRange(text: string): [number, number] {
  const m = /^(\d+)-(\d+)$/.exec(text);
  if (!m) throw new UsageError(`--range must look like 5000-10000: current value is '${text}'`);
  return [Number(m[1]), Number(m[2])];
}

function parseInteger(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^-?\d+$/.test(text)) {
    throw new UsageError(`--${name} must be an integer: current value is '${text}'`);
  }
  return Number(text);
}

async function identifier(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      model: { type: "string" },
      k: { type: "string" },
      seed: { type: "string" },
      range: { type: "string" },
      help: { type: "boolean", default: false },
    },
    allowPositionals: false,
  });
  if (values.help) {
    console.log(IDENTIFIER_USAGE);
    return;
  }
  const sp = await loadModel(values.model);
  const range = values.range === undefined
    ? [5000, 10000] as [number, number]
    : parseRange(values.range);
  const v = drawIdentifier(sp, {
    k: parseInteger("k", values.k),
    seed: parseInteger("seed", values.seed) ?? 0,
    range,
  });
  console.log(`identifier: ${v.text}`);
  console.log(`ids: ${v.ids.join(" ")}`);
  console.log(`pieces: ${v.pieces.join(" ")}`);
  console.log(`k: ${v.k}`);
  console.log(`candidate pool: ${v.poolSize} pieces (ids ${range[0]}-${range[1]})`);
}

/**
 * Runs the command line.
 *
 * @param args the arguments after the script name
 * @returns the exit code
 * @example
 * ```ts
 * import { main } from "./cli.ts";
 * console.log(await main(["identifier", "--seed", "0", "--k", "1"])); // 0
 * ```
 */
export async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  try {
    if (command === "tokenize") await tokenize(rest);
    else if (command === "identifier") await identifier(rest);
    else if (command === undefined || command === "--help" || command === "-h") {
      console.log(USAGE);
      return command === undefined ? 2 : 0;
    } else throw new UsageError(`unknown command '${command}'\n\n${USAGE}`);
    return 0;
  } catch (err) {
    const e = err as Error;
    const known = e instanceof UsageError || e instanceof TypeError || e instanceof RangeError ||
      e.message.startsWith("Cannot ") ||
      (e as { code?: string }).code?.startsWith("ERR_PARSE_ARGS");
    console.error(`error: ${known ? e.message : e.stack ?? e.message}`);
    return 1;
  }
}

if (import.meta.main) Deno.exit(await main(Deno.args));
