import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * PostgreSQL for a test file: a database of its own, created on the server at `PG_TEST_URL` (default:
 * the machine's PostgreSQL, `postgres://postgres@127.0.0.1:5432/test`) and dropped by `close()`.
 * Tests that kill or restart PostgreSQL start a private server instead (LocalPostgres).
 */
export interface TestPostgres {
  url: string;
  close(): Promise<void>;
  [Symbol.asyncDispose](): Promise<void>;
}

const DEFAULT_URL = 'postgres://postgres@127.0.0.1:5432/test';

export async function startTestPostgres(serverUrl = process.env.PG_TEST_URL ?? DEFAULT_URL): Promise<TestPostgres> {
  const name = `cbot_relay_test_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: serverUrl });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(serverUrl);
  url.pathname = `/${name}`;
  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      const c = new pg.Client({ connectionString: serverUrl });
      await c.connect();
      try {
        await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await c.end();
      }
    })());
  return { url: url.href, close, [Symbol.asyncDispose]: close };
}
