#!/usr/bin/env node
import { runCli } from './program.js';

// The composition root: the process's arguments, environment and streams.
runCli(process.argv.slice(2), process.env, { stdout: process.stdout, stderr: process.stderr, now: Date.now }).then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`cbot-relay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exit(1);
  },
);
