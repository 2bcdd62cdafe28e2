// The API site: `npm run docs` writes it to docs/api/.
//
// One module per import path, taken from package.json `exports`: `"./cache"` with types at
// `./dist/cache/index.d.ts` documents `src/cache/index.ts` as the module `headroom/cache`. A new
// subpath export is picked up with no change here. Its guide joins the site through an
// `@document ../../docs/<name>.md` tag in the module comment of its index.ts.
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { Converter, OptionDefaults, ReflectionKind } from 'typedoc';

const pkg = JSON.parse(readFileSync(new URL('./package.json', import.meta.url), 'utf8'));
const root = fileURLToPath(new URL('./', import.meta.url));

/** Import path (`headroom/cache`) of each documented source file, keyed by absolute path. */
const importPaths = new Map();
for (const [subpath, target] of Object.entries(pkg.exports)) {
  const types = target?.import?.types;
  if (typeof types !== 'string') continue; // "./package.json"
  const source = types.replace(/^\.\/dist\//, 'src/').replace(/\.d\.ts$/, '.ts');
  if (!existsSync(root + source)) {
    throw new Error(`package.json exports "${subpath}" has types ${types}, but ${source} does not exist`);
  }
  importPaths.set(root + source, subpath === '.' ? pkg.name : `${pkg.name}/${subpath.slice(2)}`);
}

// TypeDoc gives a declaration re-exported by several entry points to the first one that exports
// it. The root re-exports every module, so it comes last: each declaration lives in its subpath
// module, and the root lists references to it (apart from those it marks `@primaryExport`).
const rootEntry = [...importPaths].find(([, name]) => name === pkg.name)?.[0];
const entryPoints = [...importPaths.keys()].filter((file) => file !== rootEntry).concat(rootEntry ?? []);

/** Names each entry point's module after its import path instead of its file path. */
function nameModulesByImportPath(app) {
  app.converter.on(Converter.EVENT_CREATE_DECLARATION, (context, reflection) => {
    if (!reflection.kindOf(ReflectionKind.Module)) return;
    const file = context.getSymbolFromReflection(reflection)?.declarations?.[0]?.getSourceFile().fileName;
    const name = file && importPaths.get(file);
    if (name) reflection.name = name;
  });
}

/** Titles each guide with its first heading (`# Multi-level cache`) instead of its file name. */
function titleDocumentsByHeading(app) {
  app.converter.on(Converter.EVENT_CREATE_DOCUMENT, (_context, document) => {
    if (document.frontmatter.title) return;
    const heading = /^# (.+)$/m.exec(document.content.map((part) => part.text).join(''));
    if (heading) document.name = heading[1].replaceAll('`', '');
  });
}

/**
 * Markdown rendering, through TypeDoc's markdown-it instance.
 *
 * TypeDoc takes a heading's anchor and its "On this page" entry from the heading's text tokens
 * only, so "Deadlines (`headroom/timeout`)" becomes "Deadlines ()". Writing each code span of a
 * heading as `<code>`, its text, `</code>` renders the same and keeps the text.
 *
 * TypeDoc highlights a fence without a language as TypeScript; in our guides those are diagrams,
 * curl sessions and tables of figures, so they are shown as plain text.
 */
function adjustMarkdown(md) {
  md.core.ruler.push('headroom_docs', (state) => {
    const tokens = state.tokens;
    for (let i = 0; i < tokens.length; i++) {
      if (tokens[i].type === 'fence' && tokens[i].info.trim() === '') tokens[i].info = 'text';
      if (tokens[i].type !== 'inline' || tokens[i - 1]?.type !== 'heading_open') continue;
      tokens[i].children = tokens[i].children.flatMap((child) => {
        if (child.type !== 'code_inline') return [child];
        const open = new state.Token('html_inline', '', 0);
        open.content = '<code>';
        const text = new state.Token('text', '', 0);
        text.content = child.content;
        const close = new state.Token('html_inline', '', 0);
        close.content = '</code>';
        return [open, text, close];
      });
    }
  });
}

/** @type {Partial<import('typedoc').TypeDocOptions>} */
export default {
  name: pkg.name,
  entryPoints,
  entryPointStrategy: 'resolve',
  tsconfig: 'tsconfig.docs.json',
  plugin: [nameModulesByImportPath, titleDocumentsByHeading],
  markdownItLoader: adjustMarkdown,
  customCss: 'docs/site.css',
  out: 'docs/api',
  readme: 'README.md',
  projectDocuments: ['docs/redis.md', 'docs/reliability.md', 'docs/benchmarks.md', 'CHANGELOG.md', 'docs/CONTRIBUTING.md'],
  // A flat list of import paths; re-exports stay on the module pages, out of the menu.
  navigation: { includeFolders: false, excludeReferences: true },
  // The search finds each name once, where it is declared.
  searchGroupBoosts: { References: 0 },
  excludePrivate: true,
  excludeInternal: true,
  treatWarningsAsErrors: true,
  validation: { notExported: true, invalidLink: true, notDocumented: true },
  disableSources: true,
  highlightLanguages: [...OptionDefaults.highlightLanguages, 'http', 'markdown'],
};
