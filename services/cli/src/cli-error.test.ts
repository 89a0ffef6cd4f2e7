import { describe, expect, it } from 'vitest';
import { CliError, EXIT, toCliError } from './cli-error.js';

describe('toCliError', () => {
  it('reads a lost Redis connection as exit 4, whatever ioredis calls it', () => {
    for (const message of [
      'connect ECONNREFUSED 127.0.0.1:6379',
      'Connection is closed.',
      "Stream isn't writeable and enableOfflineQueue options is false",
      'Reached the max retries per request limit (which is 1). Refer to "maxRetriesPerRequest" option for details.',
      'read ECONNRESET',
    ]) {
      expect(toCliError(new Error(message)).exitCode, message).toBe(EXIT.unreachable);
    }
  });

  it('keeps a CliError as it is and makes anything else exit 1', () => {
    const e = new CliError(EXIT.notFound, 'no message msg_x');
    expect(toCliError(e)).toBe(e);
    expect(toCliError(new Error('ERR unknown command')).exitCode).toBe(EXIT.failed);
    expect(toCliError('odd').message).toBe('odd');
  });
});
