import { randomBytes } from 'node:crypto';

/** Fast unique ids: a random per-process prefix plus a counter, so no per-call crypto. */
export class IdSource {
  readonly #prefix = randomBytes(6).toString('base64url').replace(/[-_]/g, 'x');
  #counter = 0;

  /** Outbound message id as CBOT returns it, e.g. wamid.HBgSIM…. */
  wamid(): string {
    return `wamid.HBgM${this.#prefix}${this.#next()}`;
  }

  /** On-Premises inbound message id (no wamid. prefix), e.g. ABGH…. */
  inboundId(): string {
    return `ABGH${this.#prefix}${this.#next()}`;
  }

  /** 32 hex characters, like a conversation id. */
  hex32(): string {
    return randomBytes(16).toString('hex');
  }

  #next(): string {
    this.#counter += 1;
    return this.#counter.toString(36).toUpperCase().padStart(6, '0');
  }
}
