import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkCodeBlocks, extractCodeBlocks, extractDocCommentBlocks, extractModuleCommentBlocks, type BlockError, type CodeBlock } from './code-blocks.js';
import { entryPoints, repoRoot } from './entry-points.js';

const read = (file: string) => readFileSync(join(repoRoot, file), 'utf8');

const markdownFiles = ['README.md', ...readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

/** The entry point of each import path (package.json `exports`): its module comment opens its page. */
const moduleFiles = entryPoints().map((entry) => entry.source);

/** Every other source file of src/: the TSDoc examples of its classes, functions and members. */
const sourceFiles = readdirSync(join(repoRoot, 'src'), { recursive: true, encoding: 'utf8' })
  .map((f) => `src/${f.split('\\').join('/')}`)
  .filter((f) => f.endsWith('.ts') && !f.endsWith('/index.ts'))
  .sort();

/** Blocks that must fail, so that a checker letting everything through cannot pass. */
const SELF_TEST = 'self-test.md';
const selfTest = [
  'Intro.',
  '',
  '```ts',
  "import { createCache } from 'headroom/cache';",
  "await createCache({ ttl: '5m' }).getOrSett('k', () => 1);",
  '```',
  '',
  '```ts fragment',
  'not TypeScript at all (',
  '```',
  '',
  '- in a list:',
  '  ```ts',
  '  const port: number = app; // app is an Express app, not any',
  '  ```',
].join('\n');

/** A TSDoc comment of the queue module: its own names are in scope, misused they fail. */
const SELF_TEST_SOURCE = 'src/queue/self-test.ts';
const selfTestSource = [
  '/**',
  ' * Adds.',
  ' *',
  ' * @example',
  ' * ```ts',
  " * const queue = new TaskQueue({ concurrency: 'two' });",
  ' * await queue.add(async () => 1);',
  ' * ```',
  ' */',
  'export function add(): void {}',
  'class Q {',
  '  /**',
  '   * @example',
  '   * ```ts',
  '   * import { TaskQueue as Queue } from "headroom/queue";',
  '   * const TaskQueue = 1; // declared here: the prelude leaves it out',
  '   * new Queue().add(() => TaskQueue).then((n) => n.toFixed());',
  '   * await addTask();',
  '   * ```',
  '   */',
  '  m(): void {}',
  '}',
].join('\n');

describe('the ```ts blocks of the docs type-check against the real API', () => {
  const blocks: CodeBlock[] = [
    ...markdownFiles.flatMap((file) => extractCodeBlocks(file, read(file))),
    ...moduleFiles.flatMap((file) => extractModuleCommentBlocks(file, read(file))),
    ...sourceFiles.flatMap((file) => extractDocCommentBlocks(file, read(file))),
    ...extractCodeBlocks(SELF_TEST, selfTest),
    ...extractDocCommentBlocks(SELF_TEST_SOURCE, selfTestSource),
  ];
  let errors: BlockError[] = [];
  const errorsIn = (file: string) => errors.filter((e) => e.file === file).map((e) => `${e.file}:${e.line}:${e.column} ${e.message}`);

  beforeAll(() => {
    errors = checkCodeBlocks(blocks);
  }, 120_000);

  it('finds the blocks, and fails the ones that misuse the API or the context', () => {
    expect(blocks.filter((b) => b.file !== SELF_TEST).length).toBeGreaterThan(30);
    expect(moduleFiles.filter((file) => !blocks.some((b) => b.file === file)), 'module comments without an example').toEqual([]);
    expect(errors.filter((e) => e.file === SELF_TEST).map((e) => [e.line, e.message.split('\n')[0]])).toEqual([
      [5, "Property 'getOrSett' does not exist on type 'Cache'. Did you mean 'getOrSet'?"],
      [14, "Type 'Express' is not assignable to type 'number'."],
    ]);
    expect(errors.filter((e) => e.file === SELF_TEST_SOURCE).map((e) => [e.line, e.message.split('\n')[0]])).toEqual([
      [6, "Type 'string' is not assignable to type 'number'."],
      [18, "Cannot find name 'addTask'."],
    ]);
  });

  it.each(sourceFiles.filter((file) => blocks.some((b) => b.file === file)))('%s (TSDoc examples)', (file) => {
    expect(errorsIn(file)).toEqual([]);
  });

  it.each([...markdownFiles, ...moduleFiles])('%s', (file) => {
    expect(errorsIn(file)).toEqual([]);
  });

  it('has no error in docs/examples.d.ts or the compiler options', () => {
    const known = new Set([...markdownFiles, ...moduleFiles, ...sourceFiles, SELF_TEST, SELF_TEST_SOURCE]);
    expect(errors.filter((e) => !known.has(e.file)).map((e) => `${e.file}:${e.line} ${e.message}`)).toEqual([]);
  });
});
