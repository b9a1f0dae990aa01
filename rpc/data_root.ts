import { isAbsolute, join, relative, resolve, sep } from "node:path";
import { invalidParams } from "./rpc_error.ts";
import { showValue } from "./_show_value.ts";

/** Options of {@linkcode DataRoot.resolve}. */
export interface ResolveOptions {
  /** The parameter's name, for the error message (default `path`). */
  field?: string;
  /** Whether the path must exist (default `true`); otherwise its nearest existing parent must. */
  mustExist?: boolean;
}

/**
 * The folder every path parameter and every served file is confined to. Paths are relative to
 * it; a path with a `..` segment, an absolute path, or one whose real path (symbolic links
 * resolved) lies outside the root is refused with -32602 Invalid params naming the field.
 *
 * @example
 * ```ts
 * import { DataRoot } from "./data_root.ts";
 * const dir = await Deno.makeTempDir();
 * const root = await DataRoot.open(dir);
 * await Deno.writeTextFile(`${root.path}/a.txt`, "hi");
 * console.log((await root.resolve("a.txt")).endsWith("a.txt")); // true
 * await root.resolve("../etc/passwd").catch((e) => console.log(e.message));
 * // Invalid params: 'path' must stay inside the data root (no '..'): current value is "../etc/passwd"
 * await Deno.remove(dir, { recursive: true });
 * ```
 */
export class DataRoot {
  /** The root's real path (absolute, symbolic links resolved). */
  readonly path: string;
  /** Absolute folders of this server that messages must not show, longest first, with labels. */
  readonly #hidden: [string, string][];

  private constructor(path: string, given: string) {
    this.path = path;
    const folders: [string, string][] = [[path, "<data root>"], [given, "<data root>"]];
    const cwd = Deno.cwd();
    if (cwd.length > 1) folders.push([cwd, "<server folder>"]);
    this.#hidden = folders
      .filter(([f], i) => f.length > 1 && folders.findIndex(([g]) => g === f) === i)
      .sort((a, b) => b[0].length - a[0].length);
  }

  /**
   * Creates the folder when missing and resolves its real path.
   *
   * @param path The data root, absolute or relative to the working directory.
   * @returns The data root.
   * @throws {TypeError} When `path` is not a non-empty string.
   */
  static async open(path: string): Promise<DataRoot> {
    if (typeof path !== "string" || path === "") {
      throw new TypeError(
        `Cannot open the data root as 'path' must be a non-empty string: current value is ${
          showValue(path)
        }`,
      );
    }
    await Deno.mkdir(path, { recursive: true });
    return new DataRoot(await Deno.realPath(path), resolve(path));
  }

  /**
   * Hides this server's absolute folders in a message meant for a client: the data root (its
   * real path and the path it was opened with) becomes `<data root>`, the server's working
   * folder `<server folder>`.
   *
   * @param text A message (an error, a job record as JSON).
   * @returns The text without those folders.
   */
  redact(text: string): string {
    let out = text;
    for (const [folder, label] of this.#hidden) out = out.replaceAll(folder, label);
    return out;
  }

  /**
   * Resolves a path parameter to a real absolute path inside the root.
   *
   * @param path The parameter's value (relative, `/`-separated).
   * @param options Field name for errors; whether it must exist.
   * @returns The real absolute path.
   * @throws {RpcError} -32602 when the path is not a string, absolute, has a `..` segment, does
   * not exist (with `mustExist`), or resolves outside the root.
   */
  async resolve(path: unknown, options: ResolveOptions = {}): Promise<string> {
    const { field = "path", mustExist = true } = options;
    const shown = showValue(path);
    if (typeof path !== "string" || path === "" || path.length > 4096) {
      throw invalidParams(field, `must be a non-empty relative path: current value is ${shown}`);
    }
    if (path.includes("\0")) {
      throw invalidParams(field, `must not contain NUL characters: current value is ${shown}`);
    }
    if (isAbsolute(path) || /^[a-zA-Z]:|^[\\/]/.test(path)) {
      throw invalidParams(
        field,
        `must be relative to the data root, not absolute: current value is ${shown}`,
      );
    }
    if (path.split(/[\\/]/).includes("..")) {
      throw invalidParams(
        field,
        `must stay inside the data root (no '..'): current value is ${shown}`,
      );
    }
    const joined = join(this.path, path);
    let real: string;
    if (mustExist) {
      try {
        real = await Deno.realPath(joined);
      } catch (err) {
        if (err instanceof Deno.errors.NotFound) {
          throw invalidParams(field, `must name an existing file: current value is ${shown}`);
        }
        throw err;
      }
    } else {
      real = await realPathOfNearest(joined) ?? "";
    }
    if (real === "" || !this.contains(real)) {
      throw invalidParams(
        field,
        `must stay inside the data root (a symbolic link leads out): current value is ${shown}`,
      );
    }
    return real;
  }

  /**
   * Whether an absolute real path is the root or lies below it.
   *
   * @param real An absolute path with symbolic links resolved.
   * @returns `true` when inside.
   */
  contains(real: string): boolean {
    return real === this.path ||
      real.startsWith(this.path.endsWith(sep) ? this.path : this.path + sep);
  }

  /**
   * The `/`-separated path of an absolute path below the root, relative to it.
   *
   * @param absolute A path inside the root.
   * @returns The relative path (`jobs/x/out.png`).
   */
  relative(absolute: string): string {
    return relative(this.path, absolute).split(sep).join("/");
  }
}

/** The real path of `path` whose tail may not exist yet; `null` when a dangling link is on it. */
async function realPathOfNearest(path: string): Promise<string | null> {
  const rest: string[] = [];
  let current = path;
  for (;;) {
    try {
      const real = await Deno.realPath(current);
      return rest.length === 0 ? real : join(real, ...rest.reverse());
    } catch (err) {
      if (!(err instanceof Deno.errors.NotFound)) throw err;
      if (await Deno.lstat(current).then(() => true, () => false)) return null;
      const parent = join(current, "..");
      if (parent === current) throw err;
      rest.push(current.slice(parent.length).replace(/^[\\/]+/, ""));
      current = parent;
    }
  }
}
