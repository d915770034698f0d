/**
 * Reads the `@example` blocks of everything `packages/sdk/src/index.ts` exports, with the
 * TypeScript compiler API, and turns each into JavaScript the examples test runs.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

const SDK_SRC = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packages/sdk/src");
export const SDK_INDEX = path.join(SDK_SRC, "index.ts");

/** The package's entry points (its `exports`), by the specifier an app imports. */
export const SDK_ENTRIES: Readonly<Record<string, string>> = {
  "@pledge/sdk": SDK_INDEX,
  "@pledge/sdk/ethers": path.join(SDK_SRC, "ethers/index.ts"),
};

export type ExportKind = "function" | "class" | "method" | "const" | "enum";

/** One documented value of the SDK: `name` is `fn`, `Class` or `Class.method`. */
export interface Documented {
  name: string;
  /** The entry point it is exported from, as `SDK_ENTRIES` names it. */
  entry: string;
  kind: ExportKind;
  /** The export it belongs to: `name` itself, or the class of a method. */
  exportName: string;
  /** Where it is declared, as `path:line` relative to the repository. */
  location: string;
  examples: string[];
}

/**
 * Every value export of the SDK's entry point (re-exports followed), with its examples; for a
 * class, also one entry per public method. Types and interfaces are left out: they have no
 * runtime to run.
 */
export function documentedExports(entry = "@pledge/sdk"): Documented[] {
  const index = SDK_ENTRIES[entry];
  if (!index) throw new Error(`no entry point ${entry}`);
  const program = ts.createProgram([index], {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    allowImportingTsExtensions: true,
    noEmit: true,
  });
  const checker = program.getTypeChecker();
  const source = program.getSourceFile(index);
  if (!source) throw new Error(`cannot read ${index}`);
  const moduleSymbol = checker.getSymbolAtLocation(source);
  if (!moduleSymbol) throw new Error(`${index} is not a module`);
  const repo = path.resolve(SDK_SRC, "../../..");
  const where = (node: ts.Node) => {
    const file = node.getSourceFile();
    const { line } = file.getLineAndCharacterOfPosition(node.getStart());
    return `${path.relative(repo, file.fileName)}:${line + 1}`;
  };

  const found: Documented[] = [];
  for (const exported of checker.getExportsOfModule(moduleSymbol)) {
    const symbol = exported.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(exported) : exported;
    const name = exported.getName();
    const declarations = symbol.getDeclarations() ?? [];
    const declaration = declarations.find((d) => examplesOf(d).length > 0) ?? declarations[0];
    // Generated TypeChain factories carry no hand-written docs.
    if (!declaration || declaration.getSourceFile().fileName.includes("/typechain/")) continue;
    const kind = kindOf(declaration);
    if (!kind) continue;
    found.push({
      name,
      entry,
      kind,
      exportName: name,
      location: where(declaration),
      examples: examplesOf(declaration),
    });
    if (ts.isClassDeclaration(declaration)) {
      for (const member of declaration.members) {
        if (!ts.isMethodDeclaration(member) || !member.name || !ts.isIdentifier(member.name)) continue;
        const modifiers = ts.getCombinedModifierFlags(member);
        if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        if (member.name.text.startsWith("_") || ts.isPrivateIdentifier(member.name)) continue;
        found.push({
          name: `${name}.${member.name.text}`,
          entry,
          kind: "method",
          exportName: name,
          location: where(member),
          examples: examplesOf(member),
        });
      }
    }
  }
  return found;
}

function kindOf(declaration: ts.Declaration): ExportKind | undefined {
  if (ts.isFunctionDeclaration(declaration)) return "function";
  if (ts.isClassDeclaration(declaration)) return "class";
  if (ts.isEnumDeclaration(declaration)) return "enum";
  if (ts.isVariableDeclaration(declaration)) {
    const init = declaration.initializer;
    // `export const f = (…) => …` is a function as far as a reader is concerned.
    if (init && (ts.isArrowFunction(init) || ts.isFunctionExpression(init))) return "function";
    return "const";
  }
  return undefined;
}

/**
 * The code of each `@example` tag on `node`, read from the raw comment (the JSDoc parser would
 * drop `@` and braces inside code): from the tag to the next line that starts a tag.
 */
export function examplesOf(node: ts.Node): string[] {
  const examples: string[] = [];
  for (const doc of ts.getJSDocCommentsAndTags(node)) {
    if (!ts.isJSDoc(doc)) continue;
    const lines = doc
      .getText()
      .replace(/^\/\*\*/, "")
      .replace(/\*\/$/, "")
      .split("\n")
      .map((line) => line.replace(/^\s*\* ?/, ""));
    let current: string[] | undefined;
    for (const line of lines) {
      const tag = /^\s*@(\w+)\s?(.*)$/.exec(line);
      if (tag) {
        if (current) examples.push(current.join("\n").trim());
        current = tag[1] === "example" ? (tag[2] ? [tag[2]] : []) : undefined;
      } else if (current) {
        current.push(line);
      }
    }
    if (current) examples.push(current.join("\n").trim());
  }
  return examples.filter((example) => example.length > 0);
}

/** A number or bigint, or a product or quotient of bigints and `WAD`: `750n * WAD`, `175n * 10n ** 15n`. */
const NUMBER = String.raw`-?\d[\d_]*(?:\.\d+)?n?(?:\s*(?:\*\*?|\/)\s*(?:\d[\d_]*n|WAD))*|-?WAD(?:\s*(?:\*\*?|\/)\s*\d[\d_]*n)*`;

/** A comment that is a JavaScript literal: a string, a number or bigint, a boolean, null, an array or object. */
const LITERAL = new RegExp(
  String.raw`^(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|${NUMBER}|true|false|null|undefined|\[.*\]|\{.*\})$`,
);

/**
 * `expr; // <literal>` becomes `assert.deepEqual(expr, literal);`, as does `expr; // <literal>: why`.
 * A line that declares or returns is left alone, as is a comment that does not start with a
 * whole literal.
 */
export function withAssertions(example: string): string {
  return example
    .split("\n")
    .map((line) => {
      const match = /^(\s*)(.+?);\s*\/\/\s*(.+?)\s*$/.exec(line);
      if (!match) return line;
      const [, indent, expr, comment] = match as unknown as [string, string, string, string];
      if (/^(const|let|var|return|if|for|while|throw|import|export)\b/.test(expr)) return line;
      const literal = LITERAL.test(comment) ? comment : /^(.+?):\s/.exec(comment)?.[1];
      if (literal === undefined || !LITERAL.test(literal)) return line;
      return `${indent}assert.deepEqual(${expr}, ${literal});`;
    })
    .join("\n");
}

/**
 * A top-level statement `a === b;` (a claim an example makes, as `toWadDown(-1n, 6) === -(10n ** 12n);`)
 * becomes `assert.strictEqual(a, b);`, so that the claim is checked and a failure shows both sides.
 */
export function withEqualityAssertions(example: string): string {
  const file = ts.createSourceFile("example.ts", example, ts.ScriptTarget.ES2022, true, ts.ScriptKind.TS);
  const edits: { start: number; end: number; text: string }[] = [];
  for (const statement of file.statements) {
    if (!ts.isExpressionStatement(statement)) continue;
    const expr = statement.expression;
    if (!ts.isBinaryExpression(expr) || expr.operatorToken.kind !== ts.SyntaxKind.EqualsEqualsEqualsToken) continue;
    edits.push({
      start: expr.getStart(file),
      end: expr.getEnd(),
      text: `assert.strictEqual(${expr.left.getText(file)}, ${expr.right.getText(file)})`,
    });
  }
  let code = example;
  for (const { start, end, text } of edits.reverse()) code = code.slice(0, start) + text + code.slice(end);
  return code;
}

/** The name under which the examples test passes the SDK's entry points, by specifier. */
export const MODULES = "__pledgeModules";

/**
 * A one-line `import { … } from "@pledge/sdk…"` (or from `viem` / `viem/accounts`, which the
 * examples test also passes) as the declarations it makes: a name already in
 * scope is dropped (a declaration would clash with it), any other (`seriesId as packSeriesId`, a
 * name of another entry point) read from the entry point; type-only names go.
 */
function importsOf(line: string, inScope: (name: string) => boolean): string | undefined {
  const match =
    /^\s*import\s+(type\s+)?\{([^}]*)\}\s*from\s*["'](@pledge\/sdk(?:\/[\w-]+)?|viem(?:\/accounts)?)["'];?\s*$/.exec(
      line,
    );
  if (!match) return undefined;
  const [, typeOnly, names = "", specifier = ""] = match;
  if (typeOnly) return "";
  return names
    .split(",")
    .map((name) => name.trim())
    .filter((name) => name && !name.startsWith("type "))
    .map((name) => {
      const [imported = "", local = imported] = name.split(/\s+as\s+/);
      return local === imported && inScope(local)
        ? ""
        : `const ${local} = ${MODULES}[${JSON.stringify(specifier)}].${imported};`;
    })
    .join(" ");
}

/**
 * The example as the body of an async function: its imports of the SDK resolved against the
 * names in scope (see `importsOf`), TypeScript stripped.
 */
export function toFunctionBody(example: string, inScope: (name: string) => boolean = () => true): string {
  const code = withEqualityAssertions(withAssertions(example))
    .split("\n")
    .map((line) => importsOf(line, inScope) ?? line)
    .join("\n");
  const { outputText, diagnostics } = ts.transpileModule(code, {
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: ts.ModuleKind.ESNext },
    reportDiagnostics: true,
  });
  if (diagnostics?.length) {
    const text = diagnostics.map((d) => ts.flattenDiagnosticMessageText(d.messageText, "\n")).join("; ");
    throw new Error(`the example does not parse: ${text}`);
  }
  return outputText.replace(/^export \{\};\s*$/m, "");
}
