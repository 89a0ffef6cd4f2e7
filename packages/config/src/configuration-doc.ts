import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { ENV_DOCS, ENV_GROUPS, OTHER_ENV_DOCS } from './env-docs.js';
import type { EnvDoc } from './env-docs.js';

/** `pnpm docs:config` writes it; `configuration-doc.test.ts` fails while the committed copy is stale. */
export const CONFIGURATION_FILE = fileURLToPath(new URL('../../../docs/configuration.md', import.meta.url));

const cell = (s: string) => s.replaceAll('|', '\\|').replaceAll('\n', ' ');

/** docs/configuration.md: one table per group, every variable once, from ENV_DOCS. */
export function renderConfiguration(): string {
  const all: [string, EnvDoc][] = [...Object.entries(ENV_DOCS), ...Object.entries(OTHER_ENV_DOCS)];
  const out = [
    '# Configuration',
    '',
    '<!-- Generated from packages/config/src/env-docs.ts by `pnpm docs:config`; edit that file, not this one. -->',
    '',
    'Every process reads its configuration from the environment once, at start. Invalid configuration stops',
    'the process with one message naming the variable (values of keys, passwords and secrets are never',
    'echoed). Channels (several CBOT numbers) are configured by a file: [channels.md](channels.md).',
    '',
  ];
  for (const [group, title] of Object.entries(ENV_GROUPS)) {
    const rows = all.filter(([, d]) => d.group === group);
    if (rows.length === 0) continue;
    out.push(`## ${title}`, '', '| variable | meaning | default |', '|---|---|---|');
    for (const [name, d] of rows) out.push(`| \`${name}\` | ${cell(d.meaning)} | ${cell(d.default)} |`);
    out.push('');
  }
  return out.join('\n');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  writeFileSync(CONFIGURATION_FILE, renderConfiguration());
  process.stdout.write(`wrote ${CONFIGURATION_FILE}\n`);
}
