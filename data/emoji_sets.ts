/** One emoji artwork package the EmojiScenes world draws from. */
export interface EmojiSet {
  /** Iconify prefix, also the first part of every drawing id (`"noto:dog"`). */
  prefix: string;
  /** Human name of the set. */
  name: string;
  /** npm package that ships the artwork (Iconify JSON: every drawing as an SVG body). */
  packageName: string;
  /** Exact package version (pinned). */
  version: string;
  /** SPDX licence of the artwork. */
  license: string;
  /** Who made the artwork. */
  author: string;
  /** Upstream project. */
  url: string;
}

/**
 * The emoji artwork packages of the EmojiScenes world, each pinned, with its licence (also recorded
 * in `data/LICENSES.md`). The artwork is not copied into the repository: it is fetched from the npm
 * registry into Deno's npm cache (`deno install`, or on first use) and read from there.
 *
 * @example
 * ```ts
 * import { EMOJI_SETS } from "./mod.ts";
 * console.log(EMOJI_SETS.map((s) => `${s.packageName}@${s.version} (${s.license})`));
 * ```
 */
export const EMOJI_SETS: readonly EmojiSet[] = [
  {
    prefix: "noto",
    name: "Noto Emoji",
    packageName: "@iconify-json/noto",
    version: "1.2.9",
    license: "Apache-2.0",
    author: "Google Inc",
    url: "https://github.com/googlefonts/noto-emoji",
  },
  {
    prefix: "noto-v1",
    name: "Noto Emoji (v1, the 'blob' era)",
    packageName: "@iconify-json/noto-v1",
    version: "1.2.5",
    license: "Apache-2.0",
    author: "Google Inc",
    url: "https://github.com/googlefonts/noto-emoji",
  },
  {
    prefix: "twemoji",
    name: "Twitter Emoji (Twemoji)",
    packageName: "@iconify-json/twemoji",
    version: "1.2.5",
    license: "CC-BY-4.0",
    author: "Twitter, Inc and other contributors",
    url: "https://github.com/jdecked/twemoji",
  },
  {
    prefix: "openmoji",
    name: "OpenMoji",
    packageName: "@iconify-json/openmoji",
    version: "1.2.29",
    license: "CC-BY-SA-4.0",
    author: "OpenMoji (HfG Schwäbisch Gmünd)",
    url: "https://github.com/hfg-gmuend/openmoji",
  },
  {
    prefix: "fluent-emoji-flat",
    name: "Fluent Emoji Flat",
    packageName: "@iconify-json/fluent-emoji-flat",
    version: "1.2.6",
    license: "MIT",
    author: "Microsoft Corporation",
    url: "https://github.com/microsoft/fluentui-emoji",
  },
  {
    prefix: "emojione",
    name: "Emoji One (Colored)",
    packageName: "@iconify-json/emojione",
    version: "1.2.3",
    license: "CC-BY-4.0",
    author: "Emoji One",
    url: "https://github.com/EmojiTwo/emojitwo",
  },
];
