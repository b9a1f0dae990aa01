/**
 * Cross-checks against the reference tools (Debian `sentencepiece` 0.1.97): ids, pieces and
 * decoded text must be identical to `spm_encode`/`spm_decode` on every line of botchan.txt, on
 * the stress lines and on seeded random-Unicode strings (10,000 for T5, 2,000 for the others),
 * for the shipped T5 model, the two upstream test models, seven models trained here with
 * `spm_train` (Unigram and BPE with byte fallback, split digits and user-defined symbols; char
 * with nfkc_cf; word with identity rules and kept whitespace; BPE with whitespace as suffix and
 * whitespace-only pieces; BPE with a denormalization rule; Unigram without dummy prefix, with kept whitespace, control symbols and
 * nmt_nfkc_cf), and the two upstream models with 40 pieces turned UNUSED.
 *
 * Skipped with a note when the tools are absent, unless CI=true. The botchan-based parts need
 * ../shared/data/spm (or SPM_DATA_DIR) and are skipped with a note when it is absent.
 */
import assert from "assert";
import { SentencePieceProcessor } from "./sentence_piece_processor.ts";
import {
  requireSpmTools,
  spmDecode,
  spmEncode,
  spmTestOptions,
  spmTrain,
  writeLines,
} from "./_spm_reference.ts";
import { STRESS_LINES } from "./testdata/stress_lines.ts";
import { fuzzStrings } from "./testdata/fuzz_strings.ts";
import { withPieceTypes } from "./_model_rewrite.ts";
import { PieceType } from "./model_proto.ts";

const T5 = new URL("./assets/t5_spiece.model", import.meta.url).pathname;
const dataDir = Deno.env.get("SPM_DATA_DIR") ??
  new URL("../../shared/data/spm", import.meta.url).pathname;
const hasData = (() => {
  try {
    return Deno.statSync(`${dataDir}/botchan.txt`).isFile;
  } catch {
    return false;
  }
})();
const FUZZ_COUNT = 10_000;
const FUZZ = fuzzStrings(FUZZ_COUNT, 20261128);

function readLines(path: string): string[] {
  const lines = Deno.readTextFileSync(path).split("\n");
  if (lines.at(-1) === "") lines.pop();
  return lines;
}

function mismatches(
  inputs: readonly string[],
  ours: readonly string[],
  ref: readonly string[],
): string {
  const out: string[] = [];
  for (let i = 0; i < inputs.length && out.length < 3; i++) {
    if (ours[i] !== ref[i]) {
      out.push(
        `line ${i + 1} ${JSON.stringify(inputs[i].slice(0, 120))}\n  ours: ${
          ours[i]?.slice(0, 300)
        }\n  spm:  ${ref[i]?.slice(0, 300)}`,
      );
    }
  }
  return out.join("\n");
}

function countEqual(a: readonly string[], b: readonly string[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (a[i] === b[i]) n++;
  return n;
}

/**
 * Runs one model over several corpora with one `spm_encode --output_format=id`, one
 * `--output_format=piece` and one `spm_decode` process (all corpora in one file), then compares
 * line by line and reports per corpus.
 */
async function check(
  dir: string,
  modelPath: string,
  label: string,
  corpora: Array<[string, readonly string[]]>,
): Promise<string[]> {
  const sp = await SentencePieceProcessor.load(modelPath);
  const inputs = corpora.flatMap(([, lines]) => lines);
  const inputFile = await writeLines(dir, `${label}.txt`, inputs);
  const [refIds, refPieces] = await Promise.all([
    spmEncode(modelPath, inputFile, "id"),
    spmEncode(modelPath, inputFile, "piece"),
  ]);
  assert.equal(refIds.length, inputs.length, `spm_encode returned ${refIds.length} lines`);
  const idFile = await writeLines(dir, `${label}.ids`, refIds);
  const refText = await spmDecode(modelPath, idFile);
  const ourIdArrays = inputs.map((s) => sp.encode(s));
  const ours = {
    ids: ourIdArrays.map((ids) => ids.join(" ")),
    pieces: inputs.map((s) => sp.encodeAsPieces(s).join(" ")),
    decode: ourIdArrays.map((ids) => sp.decode(ids)),
  };
  const refs = { ids: refIds, pieces: refPieces, decode: refText };
  const report: string[] = [];
  let offset = 0;
  for (const [corpus, lines] of corpora) {
    const counts: Record<string, number> = {};
    for (const what of ["ids", "pieces", "decode"] as const) {
      const a = ours[what].slice(offset, offset + lines.length);
      const b = refs[what].slice(offset, offset + lines.length);
      counts[what] = countEqual(a, b);
      const tool = what === "decode" ? "spm_decode" : "spm_encode";
      assert.equal(
        counts[what],
        lines.length,
        `${label}/${corpus}: ${what} differ from ${tool} on ${
          lines.length - counts[what]
        } of ${lines.length} lines\n${mismatches(lines, a, b)}`,
      );
    }
    report.push(
      `${label}/${corpus}: ids ${counts.ids}/${lines.length}, pieces ${counts.pieces}/${lines.length}, decode ${counts.decode}/${lines.length}`,
    );
    offset += lines.length;
  }
  return report;
}

Deno.test({
  ...spmTestOptions("ids, pieces and decoded text equal spm_encode/spm_decode on every model"),
  sanitizeResources: false,
  async fn(t) {
    requireSpmTools();
    const dir = await Deno.makeTempDir({ prefix: "spm-agreement-" });
    const summary: string[] = [];
    try {
      const models: Array<[string, string]> = [["t5", T5]];
      const botchan = hasData ? readLines(`${dataDir}/botchan.txt`) : null;
      if (botchan) {
        models.push(["upstream_test_model", `${dataDir}/upstream_test_model.model`]);
        models.push(["test_bpe", `${dataDir}/test_bpe.model`]);
        const corpus = `${dataDir}/botchan.txt`;
        const common = [
          `--input=${corpus}`,
          "--byte_fallback=true",
          "--split_digits=true",
          "--user_defined_symbols=[V],sks,<sep>",
        ];
        const [uni, bpe, chr, word] = await Promise.all([
          spmTrain(dir, "unigram_bf", [...common, "--model_type=unigram", "--vocab_size=800"]),
          spmTrain(dir, "bpe_bf", [...common, "--model_type=bpe", "--vocab_size=800"]),
          spmTrain(dir, "char_cf", [
            `--input=${corpus}`,
            "--model_type=char",
            "--normalization_rule_name=nfkc_cf",
            "--vocab_size=60",
            "--hard_vocab_limit=false",
          ]),
          spmTrain(dir, "word_identity", [
            `--input=${corpus}`,
            "--model_type=word",
            "--normalization_rule_name=identity",
            "--remove_extra_whitespaces=false",
            "--vocab_size=2000",
            "--hard_vocab_limit=false",
          ]),
        ]);
        models.push(["unigram_bf", uni], ["bpe_bf", bpe], ["char_cf", chr]);
        models.push(["word_identity", word]);
        // Whitespace as suffix with whitespace-only pieces (BPE); no dummy prefix, kept
        // whitespace, control symbols and case folding (Unigram).
        // A decode-time denormalization rule: "a" → "A", "th" → "TH".
        await Deno.writeTextFile(`${dir}/denorm.tsv`, "61\t41\n74 68\t54 48\n");
        const [suffix, bare, denorm] = await Promise.all([
          spmTrain(dir, "bpe_suffix", [
            `--input=${corpus}`,
            "--model_type=bpe",
            "--vocab_size=600",
            "--treat_whitespace_as_suffix=true",
            "--allow_whitespace_only_pieces=true",
          ]),
          spmTrain(dir, "unigram_bare", [
            `--input=${corpus}`,
            "--model_type=unigram",
            "--vocab_size=600",
            "--add_dummy_prefix=false",
            "--remove_extra_whitespaces=false",
            "--control_symbols=<ctl>,[V]",
            "--normalization_rule_name=nmt_nfkc_cf",
          ]),
          spmTrain(dir, "bpe_denorm", [
            `--input=${corpus}`,
            "--model_type=bpe",
            "--vocab_size=500",
            `--denormalization_rule_tsv=${dir}/denorm.tsv`,
          ]),
        ]);
        models.push(["bpe_suffix", suffix], ["unigram_bare", bare], ["bpe_denorm", denorm]);
        // UNUSED pieces: skipped by Unigram, merged then re-split by BPE.
        const unused = new Map(
          Array.from({ length: 40 }, (_, i) => [5 + i * 3, PieceType.UNUSED] as const),
        );
        for (const name of ["upstream_test_model", "test_bpe"]) {
          const path = `${dir}/${name}_unused.model`;
          await Deno.writeFile(
            path,
            withPieceTypes(await Deno.readFile(`${dataDir}/${name}.model`), unused),
          );
          models.push([`${name}_unused`, path]);
        }
      } else {
        console.warn(
          `note: ${dataDir}/botchan.txt not found: checking only the T5 model on stress and fuzz input`,
        );
      }
      for (const [label, path] of models) {
        await t.step(label, async () => {
          // All 10,000 fuzz strings for T5; the first 2,000 for the others (CPU budget).
          const fuzz = label === "t5" ? FUZZ : FUZZ.slice(0, 2000);
          const corpora: Array<[string, readonly string[]]> = [
            ["stress", STRESS_LINES],
            ["fuzz", fuzz],
          ];
          if (botchan) corpora.unshift(["botchan", botchan]);
          summary.push(...await check(dir, path, label, corpora));
        });
      }
    } finally {
      await Deno.remove(dir, { recursive: true });
      console.log(summary.join("\n"));
    }
  },
});

Deno.test("10,000 random-Unicode strings never throw in encode, encodeAsPieces or decode", async () => {
  const sp = await SentencePieceProcessor.load(T5);
  let tokens = 0;
  for (const s of FUZZ) {
    const ids = sp.encode(s);
    const pieces = sp.encodeAsPieces(s);
    assert.equal(pieces.length, ids.length);
    assert.equal(typeof sp.decode(ids), "string");
    tokens += ids.length;
  }
  assert.ok(tokens > FUZZ_COUNT, `only ${tokens} tokens from ${FUZZ_COUNT} strings`);
});
