import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync, unlink } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Readable } from 'node:stream';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';

export interface StoredMedia {
  id: string;
  mimeType: string;
  size: number;
  sha256: string;
}

export interface MediaCounters {
  uploads: number;
  /** Bytes of upload bodies received so far, counted as they arrive (a test sees an upload while it streams). */
  bytesReceived: number;
  /** Look-ups by id (On-Premises downloads, Cloud look-ups), found or not. */
  lookups: number;
  notFound: number;
  downloads: number;
}

/**
 * Uploaded media on disk in a temporary directory (never whole in memory: a 100 MB upload costs a
 * file, not heap), the newest `maxFiles` kept. Ids are digits, as Cloud media ids are.
 */
export class MediaStore {
  readonly #entries = new Map<string, StoredMedia>();
  readonly #maxFiles: number;
  #dir: string | undefined;
  #seq = 0;
  readonly #prefix = String(1_000_000 + (randomBytes(3).readUIntBE(0, 3) % 8_000_000));
  readonly counters: MediaCounters = { uploads: 0, bytesReceived: 0, lookups: 0, notFound: 0, downloads: 0 };

  constructor(maxFiles = 200) {
    this.#maxFiles = maxFiles;
  }

  /** Stores what `body` yields; rejects (storing nothing) when it fails. */
  async put(body: Readable, mimeType: string): Promise<StoredMedia> {
    this.#dir ??= mkdtempSync(join(tmpdir(), 'cbot-sim-media-'));
    const id = `${this.#prefix}${String(++this.#seq).padStart(8, '0')}`;
    const path = join(this.#dir, id);
    const hash = createHash('sha256');
    let size = 0;
    const count = new Transform({
      transform: (chunk: Buffer, _enc, done) => {
        size += chunk.length;
        this.counters.bytesReceived += chunk.length;
        hash.update(chunk);
        done(null, chunk);
      },
    });
    try {
      await pipeline(body, count, createWriteStream(path));
    } catch (err) {
      unlink(path, () => undefined);
      throw err;
    }
    const entry = { id, mimeType, size, sha256: hash.digest('hex') };
    this.#entries.set(id, entry);
    this.counters.uploads += 1;
    if (this.#entries.size > this.#maxFiles) this.#delete(this.#entries.keys().next().value!);
    return entry;
  }

  /** A look-up by id, counted. */
  lookup(id: string): StoredMedia | undefined {
    this.counters.lookups += 1;
    const entry = this.#entries.get(id);
    if (!entry) this.counters.notFound += 1;
    return entry;
  }

  /** The stored bytes (counted as a download), or undefined. */
  open(id: string): { entry: StoredMedia; body: Readable } | undefined {
    const entry = this.#entries.get(id);
    if (!entry || this.#dir === undefined) return undefined;
    this.counters.downloads += 1;
    return { entry, body: createReadStream(join(this.#dir, id)) };
  }

  reset(): void {
    for (const id of [...this.#entries.keys()]) this.#delete(id);
    Object.assign(this.counters, { uploads: 0, bytesReceived: 0, lookups: 0, notFound: 0, downloads: 0 });
  }

  close(): void {
    this.#entries.clear();
    if (this.#dir !== undefined) rmSync(this.#dir, { recursive: true, force: true });
    this.#dir = undefined;
  }

  #delete(id: string): void {
    this.#entries.delete(id);
    if (this.#dir !== undefined) unlink(join(this.#dir, id), () => undefined);
  }
}
