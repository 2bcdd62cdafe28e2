import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { repoRoot } from './entry-points.js';
import { brokenLink, extractLinks, packedFiles, repositoryWebUrl } from './package-links.js';

const pkg = JSON.parse(readFileSync(join(repoRoot, 'package.json'), 'utf8')) as {
  repository: { url: string };
  homepage: string;
  bugs: { url: string };
};
const web = repositoryWebUrl(pkg.repository.url);
const blob = `${web}/blob/main/`;

describe('the package page and the shipped guides link only to what a user has', () => {
  let shipped: Set<string>;
  let markdown: string[];

  beforeAll(() => {
    shipped = new Set(packedFiles(repoRoot));
    markdown = [...shipped].filter((file) => file.endsWith('.md')).sort();
  }, 60_000);

  it('ships the README and the guides it links to', () => {
    expect(markdown).toContain('README.md');
    expect(markdown).toContain('docs/cache.md');
    const readme = extractLinks('README.md', readFileSync(join(repoRoot, 'README.md'), 'utf8'));
    expect(readme.length).toBeGreaterThan(10);
  });

  it('points repository, homepage and bugs at one repository', () => {
    expect(web).toMatch(/^https:\/\/github\.com\/[\w.-]+\/[\w.-]+$/);
    expect(pkg.homepage.startsWith(web)).toBe(true);
    expect(pkg.bugs.url).toBe(`${web}/issues`);
  });

  it('has no link to a file the tarball or the repository lacks', () => {
    const broken = markdown.flatMap((file) =>
      extractLinks(file, readFileSync(join(repoRoot, file), 'utf8')).flatMap((link) => {
        const why = brokenLink(link, shipped, repoRoot, blob);
        return why === undefined ? [] : [`${link.file}:${link.line} ${why}`];
      }),
    );
    expect(broken).toEqual([]);
  });

  it('finds a link the tarball lacks, and none inside code', () => {
    const sample = [
      'See [the cache](docs/cache.md#tags), ![a picture](docs/missing.png "title") and [an example](examples/demo.ts).',
      'Also [the guide](https://github.com/headroom-js/headroom/blob/main/docs/nothing.md) and [npm](https://www.npmjs.com/).',
      '`[not a link](nowhere.md)`',
      '```ts',
      'const x = handlers[0](request); // [no](link.md)',
      '```',
      '[ref]: ./CHANGELOG.md',
    ].join('\n');
    const links = extractLinks('README.md', sample);
    expect(links.map((link) => link.target)).toEqual([
      'docs/cache.md#tags',
      'docs/missing.png',
      'examples/demo.ts',
      'https://github.com/headroom-js/headroom/blob/main/docs/nothing.md',
      'https://www.npmjs.com/',
      './CHANGELOG.md',
    ]);
    const files = new Set(['README.md', 'CHANGELOG.md', 'docs/cache.md']);
    expect(links.map((link) => brokenLink(link, files, repoRoot, 'https://github.com/headroom-js/headroom/blob/main/'))).toEqual([
      undefined,
      'docs/missing.png: the package does not ship docs/missing.png',
      'examples/demo.ts: the package does not ship examples/demo.ts',
      'https://github.com/headroom-js/headroom/blob/main/docs/nothing.md: the repository has no docs/nothing.md',
      undefined,
      undefined,
    ]);
  });
});
