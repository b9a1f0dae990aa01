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
import {
  declareParams,
  type ParamDeclaration,
  type ParamSpecs,
  reportCliError,
  runCli,
  UsageError,
} from "../params/mod.ts";
import { DEFAULT_VOCABULARY_URL } from "./default_vocabulary.ts";
import { drawIdentifier } from "./identifier.ts";
import { type ModelSource, SentencePieceProcessor } from "./sentence_piece_processor.ts";

const USAGE = `Usage: tokenizer/cli.ts <command> [options]

Commands:
  tokenize     encode (or decode) stdin line by line, like spm_encode / spm_decode
  identifier   draw a rare-token identifier [V] (DreamBooth §4.1)

Run 'tokenizer/cli.ts <command> --help' for the options of a command.`;

const modelParam = {
  type: "string",
  minLength: 1,
  metavar: "FILE",
  help: "SentencePiece .model file or URL",
  defaultText: "the shipped T5 vocabulary",
} as const;

const tokenizeSpecs = {
  model: modelParam,
  pieces: { type: "boolean", default: false, help: "pieces instead of ids" },
  decode: { type: "boolean", default: false, help: "decode: ids (or pieces) in, text out" },
} as const satisfies ParamSpecs;

const identifierSpecs = {
  model: modelParam,
  k: {
    type: "integer",
    min: 1,
    max: 3,
    help: "number of pieces",
    defaultText: "drawn with the seed",
  },
  seed: {
    type: "integer",
    min: -(2 ** 31),
    max: 2 ** 31 - 1,
    default: 0,
    metavar: "S",
    help: "seed",
  },
  range: {
    type: "string",
    pattern: /^\d+-\d+$/,
    default: "5000-10000",
    metavar: "LO-HI",
    help: "id range (inclusive)",
  },
} as const satisfies ParamSpecs;

/** The parameters of `tokenizer/cli.ts tokenize`, declared once (parser, usage, checks). */
export const tokenizeParams: ParamDeclaration<typeof tokenizeSpecs> = declareParams(
  "tokenize",
  tokenizeSpecs,
);

/** The parameters of `tokenizer/cli.ts identifier`, declared once (parser, usage, checks). */
export const identifierParams: ParamDeclaration<typeof identifierSpecs> = declareParams(
  "draw an identifier",
  identifierSpecs,
);

const TOKENIZE_SUMMARY = `Reads lines from stdin and prints one line per input line:
  (default)          space-separated piece ids          (spm_encode --output_format=id)
  --pieces           space-separated pieces             (spm_encode --output_format=piece)
  --decode           ids in, text out                   (spm_decode --input_format=id)
  --decode --pieces  pieces in, text out                (spm_decode --input_format=piece)`;

const IDENTIFIER_SUMMARY =
  `Draws k rare pieces uniformly without replacement from the ids LO..HI (inclusive) whose pieces
have 1-3 characters and no whitespace (a leading word-boundary marker does not count), and
redraws until the text re-encodes to exactly those ids. Prints the identifier, its ids and
pieces, and the size of the candidate pool.`;

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

function tokenize(args: string[]): Promise<number> {
  return runCli(args, {
    params: tokenizeParams,
    usage: "tokenizer/cli.ts tokenize [--model FILE] [--pieces] [--decode]",
    summary: TOKENIZE_SUMMARY,
  }, async (values) => {
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
              throw new RangeError(`line ${lineNo}: '${f}' is not a piece id`);
            }
            return Number(f);
          });
          try {
            result = sp.decode(ids);
          } catch (err) {
            throw new RangeError(`line ${lineNo}: ${(err as Error).message}`);
          }
        }
      }
      out.push(result, "\n");
      size += result.length;
      if (size > 1 << 16) await flush();
    }
    await flush();
    return 0;
  });
}

function identifier(args: string[]): Promise<number> {
  return runCli(args, {
    params: identifierParams,
    usage: "tokenizer/cli.ts identifier [--model FILE] [--k N] [--seed S] [--range LO-HI]",
    summary: IDENTIFIER_SUMMARY,
  }, async (values) => {
    const sp = await loadModel(values.model);
    const m = /^(\d+)-(\d+)$/.exec(values.range)!;
    const range: [number, number] = [Number(m[1]), Number(m[2])];
    const v = drawIdentifier(sp, { k: values.k, seed: values.seed, range });
    console.log(`identifier: ${v.text}`);
    console.log(`ids: ${v.ids.join(" ")}`);
    console.log(`pieces: ${v.pieces.join(" ")}`);
    console.log(`k: ${v.k}`);
    console.log(`candidate pool: ${v.poolSize} pieces (ids ${range[0]}-${range[1]})`);
    return 0;
  });
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
  if (command === "tokenize") return await tokenize(rest);
  if (command === "identifier") return await identifier(rest);
  if (command === undefined || command === "--help" || command === "-h") {
    console.log(USAGE);
    return command === undefined ? 2 : 0;
  }
  return reportCliError(new UsageError(`unknown command '${command}'`), { usage: USAGE });
}

if (import.meta.main) Deno.exit(await main(Deno.args));
