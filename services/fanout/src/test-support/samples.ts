import { readFileSync, readdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/** Test-only: the inbound CBOT callback samples (kept once, in the messages package's test data). */
const DIR = fileURLToPath(new URL('../../../../packages/messages/src/testdata/samples/inbound/', import.meta.url));

export function sampleNames(): string[] {
  return readdirSync(DIR)
    .filter((f) => f.endsWith('.json'))
    .map((f) => f.slice(0, -'.json'.length))
    .sort();
}

/** The exact bytes of a sample, as CBOT would send them. */
export function readSample(name: string): string {
  return readFileSync(`${DIR}${name}.json`, 'utf8');
}
