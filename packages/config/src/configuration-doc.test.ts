import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CONFIGURATION_FILE, renderConfiguration } from './configuration-doc.js';
import { ENV_DOCS } from './env-docs.js';
import { EnvSchema } from './env-schema.js';

describe('docs/configuration.md', () => {
  it('is the rendering of ENV_DOCS (run `pnpm docs:config` after changing a variable)', () => {
    expect(readFileSync(CONFIGURATION_FILE, 'utf8') === renderConfiguration(), 'docs/configuration.md is stale: run `pnpm docs:config`').toBe(true);
  });

  it('documents every variable of the schema exactly once', () => {
    const doc = renderConfiguration();
    for (const name of Object.keys(EnvSchema.shape)) {
      expect(doc.split(`| \`${name}\` |`).length - 1, name).toBe(1);
    }
    expect(Object.keys(ENV_DOCS).sort()).toEqual(Object.keys(EnvSchema.shape).sort());
  });
});
