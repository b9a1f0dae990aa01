import {
  loadDefaultVocabulary,
  loadSentencePiece,
  type SentencePieceProcessor,
} from "../tokenizer/mod.ts";
import type { DataRoot } from "./data_root.ts";
import { invalidParams } from "./rpc_error.ts";

/**
 * SentencePiece models for the `tokenizer.*` methods: the shipped T5 vocabulary by default, or a
 * `.model` file under the data root (path confined to it), each loaded once (at most `max` kept,
 * least recently used dropped).
 *
 * @example
 * ```ts
 * import { DataRoot } from "./data_root.ts";
 * import { TokenizerCache } from "./tokenizer_cache.ts";
 * const dir = await Deno.makeTempDir();
 * const cache = new TokenizerCache(await DataRoot.open(dir));
 * const sp = await cache.get();
 * console.log(sp.vocabSize); // 32000
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class TokenizerCache {
  private readonly root: DataRoot;
  private readonly max: number;
  private readonly loaded = new Map<string, Promise<SentencePieceProcessor>>();

  /**
   * @param root The data root `.model` paths are confined to.
   * @param max How many custom models to keep loaded (default 4).
   */
  constructor(root: DataRoot, max = 4) {
    this.root = root;
    this.max = max;
  }

  /**
   * The processor for a model.
   *
   * @param model A `.model` path relative to the data root; `undefined` for the T5 vocabulary.
   * @param field The parameter's name for errors (default `model`).
   * @returns The processor.
   * @throws {RpcError} -32602 when the path leaves the data root, does not exist or is not a
   * SentencePiece model.
   */
  async get(model?: string, field = "model"): Promise<SentencePieceProcessor> {
    if (model === undefined) return await loadDefaultVocabulary();
    const path = await this.root.resolve(model, { field });
    let entry = this.loaded.get(path);
    if (entry === undefined) {
      entry = loadSentencePiece(path);
      this.loaded.set(path, entry);
      entry.catch(() => this.loaded.delete(path));
      while (this.loaded.size > this.max) {
        this.loaded.delete(this.loaded.keys().next().value!);
      }
    } else {
      this.loaded.delete(path);
      this.loaded.set(path, entry);
    }
    try {
      return await entry;
    } catch (err) {
      const why = this.root.redact((err as Error).message);
      throw invalidParams(field, `must name a SentencePiece .model file: ${why}`);
    }
  }
}
