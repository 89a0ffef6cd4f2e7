import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { REPO_ROOT } from '@cbot-relay/testing';
import { describe, expect, it } from 'vitest';

/** The manual's pages link each other; a moved section or renamed file must not leave a dead link. */
const PAGES = ['README.md', 'test/README.md', ...readdirSync(join(REPO_ROOT, 'docs')).filter((f) => f.endsWith('.md')).map((f) => `docs/${f}`)];

// GitHub's anchor for a heading: lower case, punctuation other than - and _ dropped, spaces to '-'.
const anchor = (heading: string) => heading.trim().toLowerCase().replace(/[^\p{L}\p{N}\- _]/gu, '').replace(/ /g, '-');

function anchorsOf(file: string): Set<string> {
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  return new Set([...text.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!)));
}

function deadLinks(page: string): string[] {
  const file = join(REPO_ROOT, page);
  const text = readFileSync(file, 'utf8').replace(/```[\s\S]*?```/g, '');
  const out: string[] = [];
  for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]!;
    if (/^[a-z]+:/i.test(target)) continue; // http(s), mailto
    const [path, hash] = target.split('#') as [string, string | undefined];
    const resolved = path === '' ? file : join(dirname(file), path);
    if (!existsSync(resolved)) {
      out.push(`${page}: ${target} (no ${relative(REPO_ROOT, resolved)})`);
      continue;
    }
    if (hash !== undefined && resolved.endsWith('.md') && !anchorsOf(resolved).has(hash)) out.push(`${page}: ${target} (no such heading)`);
  }
  return out;
}

describe('links in the manual', () => {
  it('finds the pages', () => {
    expect(PAGES.length).toBeGreaterThan(8);
  });

  it.each(PAGES)('%s has no dead relative link', (page) => {
    expect(deadLinks(page)).toEqual([]);
  });
});
