/**
 * Type-checks the TypeScript examples of the Markdown docs against the real API (the rules are in
 * docs/CONTRIBUTING.md, "Code examples"):
 * - every ```ts block is a module of its own, compiled with the project's compiler options;
 *   `headroom` and `headroom/<module>` resolve to src/ through package.json `exports`;
 * - a block may use, undeclared, the names of docs/examples.d.ts (`app`, `pool`, `redis`, `log`...);
 * - a block fenced as ```ts fragment is shown but not checked;
 * - the TSDoc examples of src/ (outside the entry points) are checked the same way, with their
 *   module's own names in scope.
 */
import { join, relative } from 'node:path';
import ts from 'typescript';
import { entryPoints, repoRoot } from './entry-points.js';

/** One ```ts block of a Markdown file. */
export interface CodeBlock {
  /** The Markdown file, relative to the repository root. */
  file: string;
  /** 1-based line of the block's first code line in that file. */
  line: number;
  code: string;
  /** Fenced as ```ts fragment: shown, not checked. */
  fragment: boolean;
  /** An import added after the code (see {@link extractDocCommentBlocks}). */
  prelude?: string;
}

/** Every ```ts (or ```typescript) block of `markdown`, in order. */
export function extractCodeBlocks(file: string, markdown: string): CodeBlock[] {
  const blocks: CodeBlock[] = [];
  const lines = markdown.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*(\S*)\s*(.*)$/.exec(lines[i]!);
    if (!open) continue;
    const [, indent, fence, lang, rest] = open as unknown as [string, string, string, string, string];
    let end = i + 1;
    while (end < lines.length && !(lines[end]!.trim().startsWith(fence) && lines[end]!.trim().replace(/[`~]/g, '') === '')) end++;
    if (lang === 'ts' || lang === 'typescript') {
      const code = lines
        .slice(i + 1, end)
        .map((l) => (l.startsWith(indent) ? l.slice(indent.length) : l))
        .join('\n');
      blocks.push({ file, line: i + 2, code, fragment: rest.trim().split(/\s+/).includes('fragment') });
    }
    i = end;
  }
  return blocks;
}

/**
 * The ```ts blocks of the module comment (`@packageDocumentation`) of a TypeScript file: the
 * examples that open each module page of the API site.
 */
export function extractModuleCommentBlocks(file: string, source: string): CodeBlock[] {
  const comment = /\/\*\*[\s\S]*?\*\//.exec(source);
  if (!comment || !comment[0].includes('@packageDocumentation')) return [];
  const offset = source.slice(0, comment.index).split('\n').length - 1;
  const text = comment[0]
    .split('\n')
    .map((line) => line.replace(/^\s*(\/\*\*|\*\/|\* ?)/, ''))
    .join('\n');
  return extractCodeBlocks(file, text).map((block) => ({ ...block, line: block.line + offset }));
}

/**
 * The ```ts blocks of the TSDoc comments (`@example`) of a source file that is not an entry point,
 * each with a prelude importing the exports of the file's module (`src/<module>/index.ts`) that the
 * block neither imports nor declares: an example on `TaskQueue.add` appears on the API page beside
 * `TaskQueue`, and may use it without importing it. Anything else it uses comes from an import or
 * from docs/examples.d.ts, as in the guides.
 */
export function extractDocCommentBlocks(file: string, source: string): CodeBlock[] {
  const moduleIndex = file.replace(/^(src\/[^/]+)\/.*$/, '$1/index.ts');
  const exported = moduleExports(moduleIndex);
  const blocks: CodeBlock[] = [];
  for (const comment of source.matchAll(/\/\*\*[\s\S]*?\*\//g)) {
    if (comment[0].includes('@packageDocumentation')) continue;
    const offset = source.slice(0, comment.index).split('\n').length - 1;
    const text = comment[0]
      .split('\n')
      .map((line) => line.replace(/^\s*(\/\*\*|\*\/|\* ?)/, ''))
      .join('\n');
    for (const block of extractCodeBlocks(file, text)) {
      const own = topLevelNames(block.code);
      const names = [...exported].filter(([name]) => !own.has(name)).map(([name, typeOnly]) => (typeOnly ? `type ${name}` : name));
      const from = `../${moduleIndex.replace(/\.ts$/, '.js')}`;
      blocks.push({ ...block, line: block.line + offset, prelude: names.length > 0 ? `import { ${names.join(', ')} } from '${from}';` : undefined });
    }
  }
  return blocks;
}

/** The names `index` exports (`export { a, type B } from`), each with whether it is a type only. */
function moduleExports(index: string): Map<string, boolean> {
  const names = new Map<string, boolean>();
  const source = ts.createSourceFile(index, ts.sys.readFile(join(repoRoot, index)) ?? '', ts.ScriptTarget.ES2022);
  for (const statement of source.statements) {
    if (!ts.isExportDeclaration(statement) || statement.exportClause === undefined || !ts.isNamedExports(statement.exportClause)) continue;
    for (const element of statement.exportClause.elements) names.set(element.name.text, statement.isTypeOnly || element.isTypeOnly);
  }
  return names;
}

/** The names a block imports or declares at its top level. */
function topLevelNames(code: string): Set<string> {
  const names = new Set<string>();
  const bind = (name: ts.BindingName): void => {
    if (ts.isIdentifier(name)) names.add(name.text);
    else for (const element of name.elements) if (!ts.isOmittedExpression(element)) bind(element.name);
  };
  for (const statement of ts.createSourceFile('block.ts', code, ts.ScriptTarget.ES2022).statements) {
    if (ts.isImportDeclaration(statement)) {
      const clause = statement.importClause;
      if (clause?.name) names.add(clause.name.text);
      const bindings = clause?.namedBindings;
      if (bindings && ts.isNamespaceImport(bindings)) names.add(bindings.name.text);
      if (bindings && ts.isNamedImports(bindings)) for (const element of bindings.elements) names.add(element.name.text);
    } else if (ts.isVariableStatement(statement)) {
      for (const declaration of statement.declarationList.declarations) bind(declaration.name);
    } else if (
      (ts.isFunctionDeclaration(statement) || ts.isClassDeclaration(statement) || ts.isInterfaceDeclaration(statement) ||
        ts.isTypeAliasDeclaration(statement) || ts.isEnumDeclaration(statement)) &&
      statement.name !== undefined
    ) {
      names.add(statement.name.text);
    }
  }
  return names;
}

/** A compiler error in a block, located in its Markdown file. */
export interface BlockError {
  file: string;
  line: number;
  column: number;
  message: string;
}

/**
 * Compiles every checked block (each as its own module, next to docs/examples.d.ts) in one
 * program and returns the errors, located in the Markdown files.
 */
export function checkCodeBlocks(blocks: readonly CodeBlock[]): BlockError[] {
  const config = ts.readConfigFile(join(repoRoot, 'tsconfig.json'), (path) => ts.sys.readFile(path));
  const parsed = ts.parseJsonConfigFileContent(config.config, ts.sys, repoRoot);
  const options: ts.CompilerOptions = {
    ...parsed.options,
    noEmit: true,
    paths: Object.fromEntries(entryPoints().map((entry) => [entry.importPath, [join(repoRoot, entry.source)]])),
    // Examples show a piece of a program: a name declared and not used there is normal.
    noUnusedLocals: false,
    noUnusedParameters: false,
  };

  // Virtual files inside the repository, so that packages resolve from its node_modules and the
  // blocks are ES modules (package.json "type": "module").
  const virtualDir = join(repoRoot, '.doc-blocks');
  const virtual = new Map<string, CodeBlock>();
  blocks.forEach((block, index) => {
    if (block.fragment) return;
    const name = `${block.file.replace(/[^A-Za-z0-9]+/g, '-')}-${index}.ts`;
    virtual.set(join(virtualDir, name), block);
  });
  // `export {}` makes a block without imports a module too (top-level await, no shared names).
  // A prelude goes last, so that the block's lines keep their numbers.
  const sourceOf = (block: CodeBlock) => `${block.code}\nexport {};\n${block.prelude ?? ''}\n`;

  const host = ts.createCompilerHost(options, true);
  const getSourceFile = host.getSourceFile.bind(host);
  const fileExists = host.fileExists.bind(host);
  const readFile = host.readFile.bind(host);
  host.fileExists = (path) => virtual.has(path) || fileExists(path);
  host.readFile = (path) => {
    const block = virtual.get(path);
    return block ? sourceOf(block) : readFile(path);
  };
  host.getSourceFile = (path, languageVersion, onError, shouldCreate) => {
    const block = virtual.get(path);
    if (block) return ts.createSourceFile(path, sourceOf(block), languageVersion, true);
    return getSourceFile(path, languageVersion, onError, shouldCreate);
  };

  const rootNames = [...virtual.keys(), join(repoRoot, 'docs', 'examples.d.ts')];
  const program = ts.createProgram({ rootNames, options, host });
  const diagnostics = [...program.getOptionsDiagnostics(), ...program.getGlobalDiagnostics()];
  for (const path of rootNames) {
    const source = program.getSourceFile(path);
    if (source) diagnostics.push(...program.getSyntacticDiagnostics(source), ...program.getSemanticDiagnostics(source));
  }

  return diagnostics.map((d) => {
    const message = ts.flattenDiagnosticMessageText(d.messageText, '\n');
    const path = d.file?.fileName;
    const block = path ? virtual.get(path) : undefined;
    if (!d.file || d.start === undefined) return { file: '(compiler)', line: 0, column: 0, message };
    const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
    if (block) return { file: block.file, line: block.line + line, column: character + 1, message };
    return { file: relative(repoRoot, d.file.fileName), line: line + 1, column: character + 1, message };
  });
}
