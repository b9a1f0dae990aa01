// Private loader of the Iconify JSON emoji sets. Each import is a literal `npm:` specifier so that
// `deno install` and the lock file know the packages; the JSON is parsed on first use only.

/** The parts of an Iconify JSON icon set that the world uses. */
export interface IconifyIconSet {
  prefix: string;
  width?: number;
  height?: number;
  icons: Record<
    string,
    { body: string; width?: number; height?: number; left?: number; top?: number; hFlip?: boolean }
  >;
  aliases?: Record<string, { parent: string; hFlip?: boolean; width?: number; height?: number }>;
}

type Json = { default: unknown };
const loaders: Record<string, () => Promise<Json>> = {
  "noto": () => import("npm:@iconify-json/noto@1.2.9/icons.json", { with: { type: "json" } }),
  "noto-v1": () => import("npm:@iconify-json/noto-v1@1.2.5/icons.json", { with: { type: "json" } }),
  "twemoji": () => import("npm:@iconify-json/twemoji@1.2.5/icons.json", { with: { type: "json" } }),
  "openmoji": () =>
    import("npm:@iconify-json/openmoji@1.2.29/icons.json", { with: { type: "json" } }),
  "fluent-emoji-flat": () =>
    import("npm:@iconify-json/fluent-emoji-flat@1.2.6/icons.json", { with: { type: "json" } }),
  "emojione": () =>
    import("npm:@iconify-json/emojione@1.2.3/icons.json", { with: { type: "json" } }),
};

/** Loads one set by prefix (cached by the module system). */
export async function loadIconSet(prefix: string): Promise<IconifyIconSet> {
  const load = loaders[prefix];
  if (load === undefined) throw new RangeError(`Unknown emoji set '${prefix}'`);
  return (await load()).default as IconifyIconSet;
}
