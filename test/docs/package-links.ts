/**
 * The links of the Markdown files that ship in the package, checked against what ships.
 *
 * The registry's package page renders README.md from the tarball, and a user who installed the
 * package reads docs/*.md from node_modules: a relative link there must name a file the tarball
 * holds. Links to files that stay in the repository (examples, the contributor guide) are written
 * as absolute URLs into the repository (`https://github.com/headroom-js/headroom/blob/main/...`),
 * and those must name a file the repository has.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { posix } from 'node:path';

/** A link's target as written, with the file and line it is on. */
export interface MarkdownLink {
  file: string;
  line: number;
  target: string;
}

/**
 * Every link and image target of a Markdown text (`[text](target)`, `![alt](target)`,
 * `[label]: target`), leaving out what code fences and code spans show.
 */
export function extractLinks(file: string, markdown: string): MarkdownLink[] {
  const links: MarkdownLink[] = [];
  let fence: string | undefined;
  markdown.split('\n').forEach((text, index) => {
    const marker = /^\s*(`{3,}|~{3,})/.exec(text)?.[1];
    if (marker !== undefined && (fence === undefined || marker.startsWith(fence))) {
      fence = fence === undefined ? marker : undefined;
      return;
    }
    if (fence !== undefined) return;
    const prose = text.replace(/(`+)[^`]*?\1/g, '');
    for (const match of prose.matchAll(/\]\(\s*<?([^)\s>]+)>?(?:\s+"[^"]*")?\s*\)/g)) links.push({ file, line: index + 1, target: match[1]! });
    const definition = /^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s|$)/.exec(prose);
    if (definition) links.push({ file, line: index + 1, target: definition[1]! });
  });
  return links;
}

/** The repository's web address, from package.json `repository.url`, without `.git`. */
export function repositoryWebUrl(repositoryUrl: string): string {
  return repositoryUrl.replace(/^git\+/, '').replace(/\.git$/, '');
}

/**
 * What is wrong with a link, or `undefined`: a relative target must be in `shipped` (paths
 * relative to the package root), an absolute one into `repoBlobUrl` must exist in `repoRoot`.
 * Other absolute URLs and in-page anchors are not followed.
 */
export function brokenLink(link: MarkdownLink, shipped: ReadonlySet<string>, repoRoot: string, repoBlobUrl: string): string | undefined {
  const target = link.target.split('#')[0]!.split('?')[0]!;
  if (target === '') return undefined; // `#anchor` in the same file
  if (target.startsWith(repoBlobUrl)) {
    const path = decodeURIComponent(target.slice(repoBlobUrl.length));
    return existsSync(posix.join(repoRoot, path)) ? undefined : `${link.target}: the repository has no ${path}`;
  }
  if (/^[a-z][a-z0-9+.-]*:/i.test(target) || target.startsWith('//')) return undefined;
  if (target.startsWith('/')) return `${link.target}: a path from the site root has no meaning on the package page`;
  const path = posix.normalize(posix.join(posix.dirname(link.file), decodeURIComponent(target)));
  return shipped.has(path) ? undefined : `${link.target}: the package does not ship ${path}`;
}

/** The files `npm pack` puts in the tarball, relative to the package root. */
export function packedFiles(repoRoot: string): string[] {
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const out = execFileSync(npm, ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: repoRoot, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  const [report] = JSON.parse(out) as [{ files: { path: string }[] }];
  return report.files.map((entry) => entry.path);
}
