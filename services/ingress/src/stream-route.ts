import type { IncomingMessage, ServerResponse } from 'node:http';
import { Router } from 'express';
import type { BatchResult } from '@cbot-relay/api';
import { STREAM_IN_FLIGHT, STREAM_MAX_LINES } from '@cbot-relay/api';
import { AnswerDeadline } from './answer-deadline.js';
import { acceptItem, checkManyHeaders } from './batch-route.js';
import { HttpError } from './http-error.js';
import { readJson } from './read-json.js';
import type { SendRoutesDeps } from './send-routes.js';
import { admit, answerDeadline, caller } from './send-routes.js';


const PATH = '/v1/messages/stream';

/** POST /v1/messages/stream: its body may take as long as a media upload (ServerLimits.longBody). */
export function isMessageStream(req: IncomingMessage): boolean {
  if (req.method !== 'POST') return false;
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)) === PATH;
}

function isNdjson(header: string | undefined): boolean {
  const type = header?.split(';')[0]?.trim().toLowerCase() ?? '';
  return type === 'application/x-ndjson';
}

/** One line of the body: its bytes, or the mark that it was longer than the limit (its bytes dropped). */
export type StreamLine = { n: number; bytes: Buffer } | { n: number; tooLong: true };

/**
 * Splits a byte stream into lines (LF, an optional CR before it dropped), numbered from 1; blank
 * lines are skipped (their numbers too). A line longer than `max` bytes is not kept: it is yielded
 * as `tooLong` once it ends. Holds at most `max` bytes of one line plus one chunk.
 */
export async function* splitLines(chunks: AsyncIterable<Buffer>, max: number): AsyncGenerator<StreamLine> {
  let parts: Buffer[] = [];
  let size = 0;
  let over = false;
  let n = 0;
  const finish = function* (): Generator<StreamLine> {
    n++;
    if (over) yield { n, tooLong: true };
    else {
      let bytes = parts.length === 1 ? parts[0]! : Buffer.concat(parts, size);
      if (bytes.length > 0 && bytes[bytes.length - 1] === 0x0d) bytes = bytes.subarray(0, bytes.length - 1);
      if (bytes.length > max) yield { n, tooLong: true };
      else if (bytes.toString('latin1').trim() !== '') yield { n, bytes };
    }
    parts = [];
    size = 0;
    over = false;
  };
  for await (const chunk of chunks) {
    let from = 0;
    for (let nl = chunk.indexOf(0x0a, from); nl !== -1; nl = chunk.indexOf(0x0a, from)) {
      take(chunk.subarray(from, nl));
      yield* finish();
      from = nl + 1;
    }
    take(chunk.subarray(from));
  }
  if (size > 0 || over) yield* finish();

  function take(piece: Buffer): void {
    if (piece.length === 0 || over) return;
    // One byte of slack: a CR before the LF is not the line's.
    if (size + piece.length > max + 1) {
      over = true;
      parts = [];
      size = 0;
      return;
    }
    parts.push(piece);
    size += piece.length;
  }
}

/** A line's result, never rejecting: the batch's per-item accept (acceptItem) after the line is parsed. */
function answerLine(deps: SendRoutesDeps, who: string, line: StreamLine, req: IncomingMessage): Promise<BatchResult> {
  if ('tooLong' in line) {
    return Promise.resolve({ status: 413, error: { code: 'payload_too_large', message: `the line is larger than ${deps.maxBodyBytes} bytes`, details: [] } });
  }
  let value: unknown;
  try {
    value = readJson(line.bytes).value;
  } catch (err) {
    const e = err as HttpError;
    return Promise.resolve({ status: e.status, error: { code: e.code, message: e.message.replace('request body', 'the line'), details: e.details } });
  }
  // Each line has REDIS_ANSWER_TIMEOUT_MS of its own, from when it is read.
  const due = deps.answerTimeoutMs === undefined ? undefined : new AnswerDeadline(deps.answerTimeoutMs);
  return acceptItem(deps, who, value, req.headers, due);
}

/** Resolves once `res` may be written again (or is gone). */
function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.once('drain', done);
    res.once('close', done);
  });
}

/**
 * POST /v1/messages/stream: an NDJSON body of send bodies, answered with one NDJSON result per line
 * (the batch's item results plus `line`), in order, while the body is still arriving. Lines are
 * submitted as they are read, so the accepts of one read go to Redis together (Outbound.accept
 * coalesces them) in line order; at most STREAM_IN_FLIGHT lines wait for their results, and reading
 * pauses while the client is not reading the answer.
 */
export function streamRoute(deps: SendRoutesDeps): Router {
  const r = Router();
  r.post(PATH, async (req, res) => {
    const who = caller(deps.keys, req.headers);
    await admit(deps, who, res, answerDeadline(deps, res.locals));
    if (!isNdjson(req.headers['content-type'])) {
      throw new HttpError(415, 'unsupported_media_type', 'Content-Type must be application/x-ndjson');
    }
    checkManyHeaders(req.headers, deps.now(), 'stream', 'line');
    res.status(200).setHeader('Content-Type', 'application/x-ndjson; charset=utf-8');
    res.setHeader('Cache-Control', 'no-store');
    res.flushHeaders();

    // Results in line order: the reader appends, the writer takes from the front.
    const pending: { n: number; result: Promise<BatchResult> }[] = [];
    let readerDone = false;
    let wake: (() => void) | undefined;
    let room: (() => void) | undefined;
    const poke = () => {
      wake?.();
      wake = undefined;
    };
    const gone = () => res.destroyed || res.writableEnded;

    const writer = (async () => {
      for (;;) {
        const head = pending[0];
        if (head === undefined) {
          if (readerDone || gone()) return;
          await new Promise<void>((resolve) => (wake = resolve));
          continue;
        }
        const result = await head.result;
        pending.shift();
        room?.();
        room = undefined;
        if (gone()) continue;
        if (!res.write(`${JSON.stringify({ line: head.n, ...result })}\n`)) await drained(res);
      }
    })();

    let count = 0;
    try {
      for await (const line of splitLines(req as AsyncIterable<Buffer>, deps.maxBodyBytes)) {
        if (gone()) break;
        if (++count > STREAM_MAX_LINES) {
          pending.push({
            n: line.n,
            result: Promise.resolve({ status: 413, error: { code: 'payload_too_large', message: `a stream carries at most ${STREAM_MAX_LINES} lines; send the rest in another`, details: [] } }),
          });
          poke();
          break;
        }
        pending.push({ n: line.n, result: answerLine(deps, who, line, req) });
        poke();
        while (pending.length >= STREAM_IN_FLIGHT && !gone()) await new Promise<void>((resolve) => (room = resolve));
      }
    } catch {
      // The client went away mid-body (or the body was cut): what was submitted is answered as far as it can be.
    }
    readerDone = true;
    poke();
    res.once('close', poke);
    await writer;
    if (!gone()) res.end();
    // Past the line cap the rest of the body is not read: close rather than drain it.
    if (count > STREAM_MAX_LINES) req.socket.destroySoon?.();
  });
  return r;
}
