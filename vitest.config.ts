import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: { conditions: ['@cbot-relay/source'] },
  ssr: { resolve: { conditions: ['@cbot-relay/source'] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'services/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
