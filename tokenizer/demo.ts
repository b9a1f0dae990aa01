/**
 * `deno task demo`: the project's main job for now. Loads the shipped T5 vocabulary, tokenises the
 * DreamBooth prompt "a [V] dog on the beach" (pieces, ids, fixed-length ids + mask), draws the
 * rare-token identifier for seed 0, and says what the training job will do with them.
 *
 * @module
 */
import {
  drawIdentifier,
  encodeFixedLength,
  identifierCandidates,
  loadDefaultVocabulary,
} from "./mod.ts";

const t0 = performance.now();
const sp = await loadDefaultVocabulary();
const loadMs = performance.now() - t0;
console.log(
  `vocabulary: tokenizer/assets/t5_spiece.model (${sp.modelType}, ${sp.vocabSize} pieces, ` +
    `${sp.normalizerSpec.name}; pad ${sp.padId}, eos ${sp.eosId}, unk ${sp.unkId}) loaded in ${
      loadMs.toFixed(0)
    } ms`,
);

const template = "a [V] dog on the beach";
console.log(`\nprompt template: ${JSON.stringify(template)}`);
console.log(`  pieces: ${sp.encodeAsPieces(template).join(" ")}`);
console.log(`  ids:    ${sp.encode(template).join(" ")}`);

const pool = identifierCandidates(sp);
const v = drawIdentifier(sp, { seed: 0 });
console.log(
  `\nidentifier [V] (seed 0): ${JSON.stringify(v.text)} = ids [${v.ids.join(", ")}] = pieces ` +
    `[${v.pieces.join(", ")}], k = ${v.k}, drawn from ${pool.length} candidates ` +
    `(ids 5000-10000, ≤3 characters, no spaces) in ${v.attempts} attempt(s)`,
);

const prompt = template.replace("[V]", v.text);
const classPrompt = template.replace("[V] ", "");
for (const [label, text] of [["instance prompt", prompt], ["class prompt", classPrompt]]) {
  const { ids, mask } = encodeFixedLength(sp, text, { length: 16 });
  console.log(`\n${label}: ${JSON.stringify(text)}`);
  console.log(`  pieces: ${sp.encodeAsPieces(text).join(" ")}`);
  console.log(`  fixed-length ids (16): ${Array.from(ids).join(" ")}`);
  console.log(`  attention mask:        ${Array.from(mask).join(" ")}`);
}

console.log(`
next (later issues): encode these prompts with the frozen T5-style text encoder, fine-tune the
base UNet on 3-5 photos of the subject with "${prompt}" while the class-specific
prior-preservation loss keeps "${classPrompt}" images diverse, then fine-tune the
super-resolution stages with low noise augmentation and sample "${prompt}".`);
