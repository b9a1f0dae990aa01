/**
 * A `deno lint` plugin that reports facts, not faults: every relative import of a file and every
 * function's line span, as JSON in the diagnostic message. `tools/check_deps.ts` runs `deno lint`
 * with this plugin so that it reads the same syntax tree Deno does (no regular expressions over
 * source text, so imports inside strings, comments and JSDoc examples are not counted).
 *
 * @module
 */

/** One fact, as the plugin writes it into a diagnostic's message. */
export type Fact =
  | { kind: "import"; specifier: string; line: number; dynamic: boolean }
  | { kind: "function"; name: string; line: number; endLine: number };

function lineOf(text: string, offset: number): number {
  let line = 1;
  for (let i = 0; i < offset && i < text.length; i++) if (text.charCodeAt(i) === 10) line++;
  return line;
}

/** Relative string literals anywhere below a node (for `import(new URL("../x.ts", …).href)`). */
function relativeStrings(node: Deno.lint.Node, out: string[]): void {
  if (node.type === "Literal" && typeof node.value === "string") {
    if (node.value.startsWith("./") || node.value.startsWith("../")) out.push(node.value);
    return;
  }
  if (node.type === "TemplateLiteral" && node.expressions.length === 0) {
    const raw = node.quasis[0]?.cooked ?? "";
    if (raw.startsWith("./") || raw.startsWith("../")) out.push(raw);
    return;
  }
  // `import("../x/" + name)`, `import(new URL("../x.ts", import.meta.url).href)`
  if (node.type === "BinaryExpression") {
    relativeStrings(node.left, out);
    relativeStrings(node.right, out);
  } else if (node.type === "MemberExpression") relativeStrings(node.object, out);
  else if (node.type === "NewExpression" || node.type === "CallExpression") {
    for (const arg of node.arguments) relativeStrings(arg, out);
  }
}

function functionName(node: Deno.lint.Node): string {
  const n = node as unknown as { id?: { name?: string } | null; parent?: Deno.lint.Node };
  if (n.id?.name) return n.id.name;
  const parent = n.parent as unknown as
    | { type: string; key?: { name?: string; value?: string }; id?: { name?: string } }
    | undefined;
  if (parent?.type === "VariableDeclarator" && parent.id?.name) return parent.id.name;
  if (
    (parent?.type === "MethodDefinition" || parent?.type === "Property" ||
      parent?.type === "PropertyDefinition") && parent.key
  ) return parent.key.name ?? String(parent.key.value ?? "(computed)");
  return "(anonymous)";
}

const plugin: Deno.lint.Plugin = {
  name: "check-deps",
  rules: {
    facts: {
      create(context) {
        const text = context.sourceCode.text;
        const report = (node: Deno.lint.Node, fact: Fact) =>
          context.report({ node, message: JSON.stringify(fact) });
        const staticImport = (
          node: Deno.lint.Node & { source?: { value?: unknown } | null },
        ) => {
          const specifier = node.source?.value;
          if (typeof specifier !== "string") return;
          if (!specifier.startsWith("./") && !specifier.startsWith("../")) return;
          report(node, {
            kind: "import",
            specifier,
            line: lineOf(text, node.range[0]),
            dynamic: false,
          });
        };
        const fn = (node: Deno.lint.Node) => {
          report(node, {
            kind: "function",
            name: functionName(node),
            line: lineOf(text, node.range[0]),
            endLine: lineOf(text, node.range[1]),
          });
        };
        return {
          ImportDeclaration: staticImport,
          ExportAllDeclaration: staticImport,
          ExportNamedDeclaration: staticImport,
          ImportExpression(node) {
            const found: string[] = [];
            relativeStrings(node.source, found);
            for (const specifier of found) {
              report(node, {
                kind: "import",
                specifier,
                line: lineOf(text, node.range[0]),
                dynamic: true,
              });
            }
          },
          // `new URL("../pkg/x.ts", import.meta.url)`: a module reached by a computed import().
          NewExpression(node) {
            const [first, second] = node.arguments;
            if (node.callee.type !== "Identifier" || node.callee.name !== "URL") return;
            if (second?.type !== "MemberExpression" || second.object.type !== "MetaProperty") {
              return;
            }
            if (first?.type !== "Literal" || typeof first.value !== "string") return;
            const specifier = first.value;
            if (!/^\.\.?\//.test(specifier) || !/\.(ts|tsx|js|mjs)$/.test(specifier)) return;
            report(node, {
              kind: "import",
              specifier,
              line: lineOf(text, node.range[0]),
              dynamic: true,
            });
          },
          // `if (import.meta.main) { … }`: an entry point's body, counted like a function.
          IfStatement(node) {
            const test = node.test;
            if (
              test.type === "MemberExpression" && test.object.type === "MetaProperty" &&
              test.property.type === "Identifier" && test.property.name === "main"
            ) {
              report(node, {
                kind: "function",
                name: "if (import.meta.main)",
                line: lineOf(text, node.range[0]),
                endLine: lineOf(text, node.range[1]),
              });
            }
          },
          FunctionDeclaration: fn,
          FunctionExpression: fn,
          ArrowFunctionExpression: fn,
        };
      },
    },
  },
};

export default plugin;
