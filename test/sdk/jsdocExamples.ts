/**
 * Reads the `@example` blocks of everything `packages/sdk/src/index.ts` exports, with the
 * TypeScript compiler API, and turns each into JavaScript the examples test runs.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import ts from "typescript";

export const SDK_INDEX = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../packages/sdk/src/index.ts");

export type ExportKind = "function" | "class" | "method" | "const" | "enum";

/** One documented value of the SDK: `name` is `fn`, `Class` or `Class.method`. */
export interface Documented {
  name: string;
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
export function documentedExports(index = SDK_INDEX): Documented[] {
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
  const repo = path.resolve(path.dirname(index), "../../..");
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
    if (!declaration) continue;
    const kind = kindOf(declaration);
    if (!kind) continue;
    found.push({ name, kind, exportName: name, location: where(declaration), examples: examplesOf(declaration) });
    if (ts.isClassDeclaration(declaration)) {
      for (const member of declaration.members) {
        if (!ts.isMethodDeclaration(member) || !member.name || !ts.isIdentifier(member.name)) continue;
        const modifiers = ts.getCombinedModifierFlags(member);
        if (modifiers & (ts.ModifierFlags.Private | ts.ModifierFlags.Protected)) continue;
        if (member.name.text.startsWith("_") || ts.isPrivateIdentifier(member.name)) continue;
        found.push({
          name: `${name}.${member.name.text}`,
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

/** A comment that is a JavaScript literal: a string, a number or bigint, a boolean, null, an array or object. */
const LITERAL =
  /^(?:"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|-?\d[\d_]*(?:\.\d+)?n?|true|false|null|undefined|\[.*\]|\{.*\})$/;

/**
 * `expr; // <literal>` becomes `assert.deepEqual(expr, literal);`. A line that declares or
 * returns is left alone, as is a comment that does not read as a whole literal.
 */
export function withAssertions(example: string): string {
  return example
    .split("\n")
    .map((line) => {
      const match = /^(\s*)(.+?);\s*\/\/\s*(.+?)\s*$/.exec(line);
      if (!match) return line;
      const [, indent, expr, comment] = match as unknown as [string, string, string, string];
      if (/^(const|let|var|return|if|for|while|throw|import|export)\b/.test(expr) || !LITERAL.test(comment)) {
        return line;
      }
      return `${indent}assert.deepEqual(${expr}, ${comment});`;
    })
    .join("\n");
}

/** The example as the body of an async function: imports of the SDK dropped, TypeScript stripped. */
export function toFunctionBody(example: string): string {
  const code = withAssertions(example)
    .split("\n")
    .filter((line) => !/^\s*import\b.*\bfrom\s+["']@pledge\/sdk["'];?\s*$/.test(line))
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
