import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium } from 'playwright-core';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '@cbot-relay/testing';
import type { Harness } from './test-kit/harness.js';
import { ADMIN_KEY, json, startHarness } from './test-kit/harness.js';

// Debian's chromium (`apt-get install chromium`; .ci/run installs it). Under CI its absence is a
// failure, locally the test is skipped with a note.
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const found = existsSync(CHROMIUM);
const ci = process.env.CI !== undefined && process.env.CI !== '' && process.env.CI !== 'false';
const MISSING = `no chromium at ${CHROMIUM} (apt-get install chromium; .ci/run installs it)`;
if (!found && !ci) console.warn(`console-browser.int.test.ts: skipped: ${MISSING}`);

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
/** Screenshots of each page, for a person to look at; never committed. */
const SHOTS = process.env.CONSOLE_SCREENSHOTS ?? mkdtempSync(join(tmpdir(), 'console-shots-'));

let h: Harness;
let browser: Browser;
let tab: Page;
const problems: string[] = [];

beforeAll(async () => {
  if (!found) throw new Error(MISSING);
  h = await startHarness();
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] });
  tab = await browser.newPage({ viewport: { width: 390, height: 844 } }); // a phone
  tab.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') problems.push(`${m.type()}: ${m.text()}`);
  });
  tab.on('pageerror', (e) => problems.push(`page error: ${e.message}`));
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await h?.close();
});

/** axe-core on the page as it is: no serious or critical violation. */
async function accessible(name: string): Promise<void> {
  await tab.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
  // The page's CSP forbids scripts: axe is evaluated through the DevTools protocol, which CSP does not govern.
  await tab.evaluate(AXE);
  const result = (await tab.evaluate('axe.run(document, { resultTypes: ["violations"] })')) as { violations: { id: string; impact: string | null; help: string; nodes: { target: unknown }[] }[] };
  const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  expect(bad.map((v) => `${v.id} (${v.impact}): ${v.help} at ${JSON.stringify(v.nodes.map((n) => n.target))}`), name).toEqual([]);
}

const text = (to: string) => ({ to, type: 'text', text: { body: 'hello browser' } });

describe.skipIf(!found && !ci)(found || ci ? 'the console in Chromium' : `the console in Chromium (skipped: ${MISSING})`, () => {
  it('signs in, searches, opens a message, replays a dead letter, visits every page and signs out; accessible, no console errors', async () => {
    h.sim.failNext(400, 1);
    const { id } = await json<{ id: string }>(await h.send(text('905551110001')));
    await waitFor(async () => (await json<{ status: string }>(await h.get(id))).status === 'failed', { what: 'a dead letter' });

    await tab.goto(`${h.base}/console/messages`);
    await expect.poll(() => tab.url()).toContain('/console/login');
    await accessible('login');
    await tab.getByLabel('Admin key').fill(ADMIN_KEY);
    await tab.getByRole('button', { name: 'Sign in' }).click();
    await tab.waitForURL(/\/console\/messages$/);
    await accessible('messages');

    await tab.getByLabel('Search').fill('+90 (555) 111-0001');
    await tab.getByRole('button', { name: 'Search' }).click();
    await tab.getByRole('link', { name: id }).click();
    await tab.waitForURL(new RegExp(`/console/messages/${id}$`));
    await expect.poll(() => tab.getByRole('heading', { name: 'Timeline' }).count()).toBe(1);
    expect(await tab.content()).not.toContain('hello browser');
    await accessible('message');
    await tab.getByRole('button', { name: 'Show body' }).click();
    await expect.poll(async () => tab.locator('pre').textContent()).toContain('hello browser');

    await tab.getByRole('link', { name: 'Dead letters' }).click();
    await tab.waitForURL(/\/console\/dead-letters$/);
    await accessible('dead-letters');
    await tab.getByRole('row', { name: new RegExp(id) }).getByRole('button', { name: 'Replay' }).click();
    await expect.poll(() => tab.getByRole('status').textContent()).toContain('Replayed 1, skipped 0');
    await waitFor(async () => (await json<{ status: string }>(await h.get(id))).status !== 'failed', { what: 'the replay' });

    for (const [link, name] of [['Overview', 'overview'], ['Channels', 'channels'], ['Subscribers', 'subscribers']] as const) {
      await tab.getByRole('link', { name: link, exact: true }).click();
      await expect.poll(() => tab.getByRole('heading', { level: 1 }).textContent()).toBe(link);
      await accessible(name);
    }

    await tab.getByRole('button', { name: 'Sign out' }).click();
    await tab.waitForURL(/\/console\/login$/);
    await tab.goto(`${h.base}/console`);
    await expect.poll(() => tab.url()).toContain('/console/login');
    expect(problems).toEqual([]);
    console.info(`console screenshots: ${SHOTS}`);
  }, 60_000);
});
