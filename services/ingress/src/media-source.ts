import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import type { Readable } from 'node:stream';
import busboy from 'busboy';
import { MEDIA_KINDS, MEDIA_MAX_BYTES, mediaRule } from '@cbot-relay/messages';
import type { MediaKind } from '@cbot-relay/messages';
import { HttpError } from './http-error.js';

/** The file of an upload, as it arrives, with what is known of it before its bytes. */
export interface UploadSource {
  /** The file's bytes, cut with a 413 past its kind's limit. */
  body: Readable;
  contentType: string;
  kind: MediaKind;
  /** Raw bodies only: the declared Content-Length. */
  contentLength?: number;
  filename?: string;
  /** Why the body was cut, when it was: past the limit (413), malformed (400), aborted. */
  readonly failure: HttpError | undefined;
}

/** The request is a media upload (POST /v1/media): the server gives its body the media timeouts. */
export function isMediaUpload(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)) === '/v1/media';
}

/** Multipart bodies carry a little more than the file: boundaries and part headers. */
const MULTIPART_OVERHEAD_BYTES = 64 * 1024;

const tooLarge = (kind: MediaKind) =>
  new HttpError(413, 'payload_too_large', `a ${kind} may be at most ${MEDIA_KINDS[kind].maxBytes} bytes`, [{ path: 'body', message: `limit ${MEDIA_KINDS[kind].maxBytes} bytes` }]);

/** What WhatsApp takes, for the 415's message. */
const SUPPORTED = Object.values(MEDIA_KINDS).flatMap((k) => k.mimeTypes).join(', ');

function ruleFor(contentType: string | undefined): { kind: MediaKind; maxBytes: number } {
  const rule = contentType === undefined ? undefined : mediaRule(contentType);
  if (!rule) {
    const shown = contentType === undefined || contentType === '' ? 'no Content-Type' : `"${contentType.slice(0, 100)}"`;
    throw new HttpError(415, 'unsupported_media_type', `${shown} is not a media type WhatsApp takes; supported: ${SUPPORTED}`, [{ path: 'Content-Type', message: 'unsupported' }]);
  }
  return rule;
}

/** Passes bytes through and fails with a 413 at the first byte past `maxBytes`. */
class ByteLimit extends Transform {
  #seen = 0;
  failure: HttpError | undefined;

  constructor(
    readonly maxBytes: number,
    readonly kind: MediaKind,
  ) {
    super();
  }

  override _transform(chunk: Buffer, _enc: BufferEncoding, done: (err?: Error | null, data?: Buffer) => void): void {
    this.#seen += chunk.length;
    if (this.#seen > this.maxBytes) {
      this.failure = tooLarge(this.kind);
      done(this.failure);
      return;
    }
    done(null, chunk);
  }

  /** Ends the body early for `err` (the upload to CBOT fails with it). */
  fail(err: HttpError): void {
    this.failure ??= err;
    this.destroy(err);
  }
}

/**
 * The upload's file, from a raw body (its Content-Type) or the `file` part of a multipart/form-data
 * body (the part's Content-Type). Resolves once the file's type is known; throws an HttpError for a
 * type WhatsApp does not take (415), a declared size past the limit (413), a malformed multipart body
 * or one without a file part (400). Nothing is buffered: the caller reads `body` as CBOT takes it.
 */
export function openUpload(req: IncomingMessage, signal: AbortSignal): Promise<UploadSource> {
  const encoding = req.headers['content-encoding'];
  if (encoding !== undefined && encoding.trim().toLowerCase() !== 'identity') {
    // CBOT would store the encoded bytes as the file, and the limits would count the wrong size.
    return Promise.reject(new HttpError(415, 'unsupported_encoding', 'media uploads are sent without a Content-Encoding'));
  }
  const type = req.headers['content-type'];
  const declared = req.headers['content-length'] === undefined ? undefined : Number(req.headers['content-length']);
  if (type !== undefined && /^\s*multipart\/form-data\s*(;|$)/i.test(type)) {
    if (declared !== undefined && declared > MEDIA_MAX_BYTES + MULTIPART_OVERHEAD_BYTES) {
      return Promise.reject(new HttpError(413, 'payload_too_large', `a media file may be at most ${MEDIA_MAX_BYTES} bytes`));
    }
    return fromMultipart(req, signal);
  }
  const rule = ruleFor(type);
  if (declared !== undefined && declared > rule.maxBytes) return Promise.reject(tooLarge(rule.kind));
  const limit = new ByteLimit(rule.maxBytes, rule.kind);
  req.pipe(limit);
  endWith(req, signal, (err) => limit.fail(err));
  return Promise.resolve(source(limit, type!, rule.kind, declared));
}

function source(limit: ByteLimit, contentType: string, kind: MediaKind, contentLength?: number, filename?: string): UploadSource {
  return {
    body: limit,
    contentType,
    kind,
    ...(contentLength === undefined ? {} : { contentLength }),
    ...(filename === undefined ? {} : { filename }),
    get failure() {
      return limit.failure;
    },
  };
}

const aborted = () => new HttpError(400, 'request_aborted', 'request was aborted');

/**
 * Calls `end` when the request is over before its body is: the client hung up, or the transfer's
 * signal fired (the whole-transfer timeout, or an answer such as a 408 already written; after one
 * Node does not always close the request).
 */
function endWith(req: IncomingMessage, signal: AbortSignal, end: (err: HttpError) => void): void {
  const stop = () => {
    if (!req.complete) end(aborted());
  };
  req.once('close', stop);
  if (signal.aborted) stop();
  else signal.addEventListener('abort', stop, { once: true });
}

function fromMultipart(req: IncomingMessage, signal: AbortSignal): Promise<UploadSource> {
  return new Promise((resolve, reject) => {
    let parser: busboy.Busboy;
    try {
      // One file, a few small fields, bounded part headers: anything bigger is not an upload.
      parser = busboy({ headers: req.headers, limits: { files: 1, fields: 20, fieldSize: 4096, parts: 25, headerPairs: 50 } });
    } catch {
      reject(new HttpError(400, 'malformed_multipart', 'multipart/form-data needs a boundary'));
      return;
    }
    let settled = false;
    const fail = (err: HttpError) => {
      if (settled) return;
      settled = true;
      req.unpipe(parser);
      reject(err);
    };
    parser.on('file', (name, file, info) => {
      if (settled || name !== 'file') {
        file.resume();
        return;
      }
      let rule;
      try {
        rule = ruleFor(info.mimeType);
      } catch (err) {
        file.resume();
        fail(err as HttpError);
        return;
      }
      settled = true;
      const limit = new ByteLimit(rule.maxBytes, rule.kind);
      file.pipe(limit);
      parser.on('error', () => limit.fail(new HttpError(400, 'malformed_multipart', 'the multipart body is malformed')));
      endWith(req, signal, (err) => limit.fail(err));
      resolve(source(limit, info.mimeType, rule.kind, undefined, info.filename));
    });
    parser.on('error', () => fail(new HttpError(400, 'malformed_multipart', 'the multipart body is malformed')));
    parser.on('close', () => fail(new HttpError(400, 'missing_file', 'the multipart body has no "file" part', [{ path: 'file', message: 'required' }])));
    endWith(req, signal, fail);
    req.pipe(parser);
  });
}
