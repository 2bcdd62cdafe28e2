/**
 * The API site as a reader sees it: built with the project's typedoc config, opened in headless
 * Chromium (Debian's `chromium` package, driven by playwright-core), checked page by page.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { entryPoints, repoRoot } from './entry-points.js';

const CHROMIUM = '/usr/bin/chromium';
const missing = existsSync(CHROMIUM) ? undefined : `${CHROMIUM} not found: sudo apt-get install -y chromium`;
if (missing) console.warn(`skipped: the API site browser test: ${missing}`);

/**
 * The declaration each module page must show first-hand, with its documentation. A module added
 * to package.json `exports` needs its line here.
 */
const MAIN_EXPORT: Record<string, { kind: 'classes' | 'functions'; name: string }> = {
  headroom: { kind: 'classes', name: 'HeadroomError' },
  'headroom/timeout': { kind: 'functions', name: 'withTimeout' },
  'headroom/queue': { kind: 'classes', name: 'TaskQueue' },
  'headroom/cache': { kind: 'functions', name: 'createCache' },
  'headroom/percentiles': { kind: 'classes', name: 'PercentileTracker' },
  'headroom/idempotency': { kind: 'classes', name: 'Idempotency' },
  'headroom/health': { kind: 'classes', name: 'HealthChecker' },
  'headroom/resilience': { kind: 'functions', name: 'pipeline' },
  'headroom/ratelimit': { kind: 'classes', name: 'RateLimiter' },
  'headroom/http': { kind: 'functions', name: 'toNode' },
  'headroom/dashboard': { kind: 'functions', name: 'dashboardHandler' },
};

/** How long a page may take to react on a loaded machine. */
const POLL = { timeout: 10_000 };

/** Import paths of package.json `exports`, as users write them. */
const importPaths = () => entryPoints().map((entry) => entry.importPath);

/** typedoc's file name for a module page: `headroom/cache` -> modules/headroom_cache.html. */
const modulePage = (name: string) => `modules/${name.replaceAll('/', '_')}.html`;

/** Builds the site into `out` the way `npm run docs` does; rejects with typedoc's output. */
function buildSite(out: string): Promise<void> {
  const typedoc = join(repoRoot, 'node_modules', 'typedoc', 'bin', 'typedoc');
  // `npm run typecheck` already type-checks the sources; typedoc need not do it again here.
  const args = [typedoc, '--options', 'typedoc.config.mjs', '--out', out, '--skipErrorChecking', '--logLevel', 'Warn'];
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: repoRoot, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`typedoc exited with ${code}:\n${output}`))));
  });
}

/** What one page holds. */
interface PageFacts {
  title: string;
  /** Every link (`a[href]`) and every asset (`link[href]`, `script[src]`), resolved. */
  links: string[];
  ids: string[];
  /** "On this page" entries that point at a Markdown heading of the page, with the heading's text. */
  toc: { text: string; heading: string }[];
}

/**
 * Reads the pages with the browser's HTML parser, in one go: loading 200 pages one by one would
 * cost a minute. The links that scripts add (the menu) are read from loaded pages in the test.
 */
function readPages(page: Page, docs: { url: string; html: string }[]): Promise<PageFacts[]> {
  return page.evaluate((docs) => {
    const headingText = (h: Element) => {
      const copy = h.cloneNode(true) as Element;
      copy.querySelectorAll('a.tsd-anchor-icon').forEach((a) => a.remove());
      return copy.textContent?.trim() ?? '';
    };
    return docs.map(({ url, html }) => {
      const doc = new DOMParser().parseFromString(html, 'text/html');
      const toc: { text: string; heading: string }[] = [];
      for (const a of doc.querySelectorAll('.tsd-page-navigation a[href^="#"]')) {
        const target = doc.getElementById(decodeURIComponent(a.getAttribute('href')!.slice(1)));
        // Headings written in Markdown (guides, comments), not the member titles.
        if (target && /^H[1-6]$/.test(target.tagName) && target.closest('.tsd-typography')) toc.push({ text: a.textContent?.trim() ?? '', heading: headingText(target) });
      }
      const refs = [...doc.querySelectorAll('a[href], link[href]')].map((e) => e.getAttribute('href')!);
      refs.push(...[...doc.querySelectorAll('script[src]')].map((e) => e.getAttribute('src')!));
      return {
        title: doc.querySelector('.col-content h1')?.textContent?.trim() ?? '',
        links: refs.map((ref) => new URL(ref, url).href),
        ids: [...doc.querySelectorAll('[id], a[name]')].map((e) => e.id || e.getAttribute('name') || ''),
        toc,
      };
    });
  }, docs);
}

/** The links of a loaded page, once its scripts built the menu. */
async function menuLinks(page: Page, url: string): Promise<string[]> {
  await page.goto(url);
  await page.waitForFunction(() => document.querySelectorAll('#tsd-nav-container a').length > 10);
  return page.locator('#tsd-nav-container a').evaluateAll((links) => links.map((a) => (a as HTMLAnchorElement).href));
}

function htmlFiles(dir: string, base = dir): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return htmlFiles(path, base);
    return entry.name.endsWith('.html') ? [relative(base, path)] : [];
  });
}

describe.skipIf(missing !== undefined)('the API site in a browser', () => {
  let out = '';
  let profile = '';
  let context: BrowserContext;
  let page: Page;
  const pages = new Map<string, PageFacts>();
  const url = (file: string) => pathToFileURL(join(out, file)).href;

  beforeAll(async () => {
    out = mkdtempSync(join(tmpdir(), 'headroom-site-'));
    profile = mkdtempSync(join(tmpdir(), 'headroom-chromium-'));
    const [, launched] = await Promise.all([
      buildSite(out),
      // A fresh profile (its --user-data-dir) per run.
      chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
          '--headless',
          '--no-sandbox',
          '--disable-gpu',
          '--disable-background-networking',
          '--disable-component-update',
          '--disable-sync',
          '--no-first-run',
          '--disable-quic',
        ],
      }),
    ]);
    context = launched;
    page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const files = htmlFiles(out);
    const facts = await readPages(page, files.map((file) => ({ url: url(file), html: readFileSync(join(out, file), 'utf8') })));
    files.forEach((file, i) => pages.set(file, facts[i]!));
  }, 120_000);

  afterAll(async () => {
    await context?.close();
    if (out) rmSync(out, { recursive: true, force: true });
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  it('has one module per import path of package.json, named as users import it', () => {
    const modules = [...pages.entries()].filter(([file]) => file.startsWith('modules/')).map(([, facts]) => facts.title);
    expect(modules.sort()).toEqual(importPaths().map((name) => `Module ${name}`).sort());
  });

  it.each(importPaths())('%s: the page opens with its purpose and an example, and shows its main export', async (name) => {
    const main = MAIN_EXPORT[name];
    expect(main, `name the main class or function of ${name} in MAIN_EXPORT (test/docs/site.test.ts)`).toBeDefined();
    await page.goto(url(modulePage(name)));
    const intro = page.locator('.col-content > .tsd-comment');
    expect((await intro.locator('p').first().innerText()).length).toBeGreaterThan(80);
    expect(await intro.locator('.tsd-tag-example pre code').first().innerText()).toContain(`from '${name}'`);

    // The main export is declared here, not a reference to another module, and its page documents it.
    const link = page.locator(`.col-content a[href$="${main!.kind}/${name.replaceAll('/', '_')}.${main!.name}.html"]`).first();
    expect(await link.count(), `${name} lists ${main!.name} only as a reference to another module`).toBe(1);
    await link.click();
    await expect.poll(() => page.locator('.col-content h1').innerText(), POLL).toMatch(new RegExp(`${main!.name}$`));
    const docs = page.locator('.col-content .tsd-comment.tsd-typography').first();
    expect((await docs.innerText()).length).toBeGreaterThan(80);
    expect(await page.locator('.col-content .tsd-comment pre code').count()).toBeGreaterThan(0);
  });

  it('makes every guide in docs/ a page titled by its heading, linked from its module', () => {
    const guides = readdirSync(join(repoRoot, 'docs')).filter((f) => f.endsWith('.md'));
    const titles = new Map([...pages.entries()].filter(([file]) => file.startsWith('documents/')).map(([file, facts]) => [facts.title, file]));
    for (const guide of guides) {
      const heading = /^# (.+)$/m.exec(readFileSync(join(repoRoot, 'docs', guide), 'utf8'))?.[1]?.replaceAll('`', '');
      const file = heading && titles.get(heading);
      expect(file, `docs/${guide} is not a page of the site: add "@document ../../docs/${guide}" to its module comment (or list it in projectDocuments)`).toBeTruthy();
      const module = `headroom/${guide.replace(/\.md$/, '')}`;
      if (!importPaths().includes(module)) continue;
      expect(pages.get(modulePage(module))!.links, `${module} does not link to docs/${guide}`).toContain(url(file!));
    }
  });

  it('resolves every link to a page or an anchor of the site, the menu included', async () => {
    const menu = await menuLinks(page, url('index.html'));
    expect(menu).toContain(url(modulePage('headroom/cache')));
    const nested = await menuLinks(page, url(modulePage('headroom/cache')));
    const root = pathToFileURL(out).href;
    const broken: string[] = [];
    const sources: [string, string[]][] = [...[...pages].map(([file, facts]) => [file, facts.links] as [string, string[]]), ['menu of index.html', menu], [`menu of ${modulePage('headroom/cache')}`, nested]];
    for (const [file, links] of sources) {
      for (const link of links) {
        if (!link.startsWith('file:')) continue; // external: not ours to check offline
        const [target, hash = ''] = link.split('#') as [string, string?];
        if (!target.startsWith(root)) {
          broken.push(`${file}: ${link} leaves the site`);
          continue;
        }
        const targetFile = relative(out, fileURLToPath(target));
        if (!existsSync(fileURLToPath(target))) broken.push(`${file}: ${targetFile} does not exist`);
        else if (hash && targetFile.endsWith('.html') && !pages.get(targetFile)?.ids.includes(decodeURIComponent(hash))) {
          broken.push(`${file}: ${targetFile} has no anchor #${hash}`);
        }
      }
    }
    expect(broken).toEqual([]);
  });

  it('renders code spans in headings, in the page and in "On this page"', () => {
    const entries = [...pages.values()].flatMap((facts) => facts.toc);
    expect(entries).toContainEqual({ text: 'Deadlines (headroom/timeout)', heading: 'Deadlines (headroom/timeout)' });
    expect(entries.filter((entry) => entry.text !== entry.heading)).toEqual([]);
  });

  it.each([
    ['createCache', 'functions/headroom_cache.createCache.html'],
    ['TaskQueue', 'classes/headroom_queue.TaskQueue.html'],
  ])('finds %s with the search box', async (query, file) => {
    await page.goto(url('index.html'));
    await page.locator('#tsd-search-trigger').click();
    await page.locator('#tsd-search-input').fill(query);
    const first = page.locator('#tsd-search-results li a').first();
    await expect.poll(async () => (await first.getAttribute('href'))?.endsWith(file), POLL).toBe(true);
    await first.click();
    await expect.poll(() => page.url(), POLL).toBe(url(file));
  });
});
