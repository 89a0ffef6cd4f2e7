/**
 * Every Redis key name of the relay, in one place (BullMQ's QueueKeys). Nothing else builds a key in
 * TypeScript; the Lua side builds the same names in lua/includes/keys.lua (change both together:
 * keys.int.test.ts checks that they agree). docs/data-layer.md lists each key with its type, TTL and
 * writers. BullMQ's own keys (the inbound, events.* and push.* queues) are BullMQ's, under the same prefix.
 *
 * Three levels:
 * - RelayKeys: under the prefix (QUEUE_PREFIX) itself: subscribers, the partition count, rate limits.
 * - PartitionKeys: under one outbound partition's base (the prefix itself with one partition, see
 *   partitions.ts): records, bodies, the backlog, indexes, dead letters, fence, weights.
 * - ChannelKeys: one channel's scheduler under the partition: `base` for channel `default`,
 *   `base:c:<id>` for the others.
 * On Redis Cluster every name under one base shares the base's hash tag, so each script stays in one slot.
 */

/** The channel whose scheduler keys are the partition's own (today's names): what the CBOT_* variables form. */
export const DEFAULT_CHANNEL = 'default';

/** The base of a channel's scheduler keys (keys.lua's useChannel builds the same). */
export function channelKeyBase(base: string, channel: string): string {
  return channel === DEFAULT_CHANNEL ? base : `${base}:c:${channel}`;
}

/** Keys directly under the relay's prefix, shared by every partition. */
export class RelayKeys {
  constructor(readonly prefix: string) {}

  /** hash: subscriber name → JSON record. */
  get subscribers(): string {
    return `${this.prefix}:subscribers`;
  }
  /** set: names deleted by the API (a restart does not seed them again). */
  get subscribersDeleted(): string {
    return `${this.prefix}:subscribers:deleted`;
  }
  /** counter: bumped by every subscriber change. */
  get subscribersVersion(): string {
    return `${this.prefix}:subscribers:version`;
  }
  /** Pub/Sub channel: each new subscribers version. */
  get subscribersChanged(): string {
    return `${this.prefix}:subscribers:changed`;
  }
  /** string: the outbound partition count, fixed for the life of the data. */
  get partitionCount(): string {
    return `${this.prefix}:o:partitions`;
  }
  /** Prefix of rate-limiter-flexible's keys for the per-API-key limits. */
  get apiKeyRatePrefix(): string {
    return `${this.prefix}:apikey-rate`;
  }
  /** string: the console's per-deployment secret (32 random bytes, base64url), created once with SET NX. */
  get consoleSecret(): string {
    return `${this.prefix}:console:secret`;
  }
  /** string with TTL: a signed-out console session, until its cookie would have expired. */
  consoleRevoked(sessionId: string): string {
    return `${this.prefix}:console:revoked:${sessionId}`;
  }
  /** hash with TTL (2 h): messages accepted / sent / failed in one epoch minute, for the console. */
  minuteStats(minute: number): string {
    return `${this.prefix}:stats:m:${minute}`;
  }
  /** string with TTL (MEDIA_MISSING_TTL_S): CBOT answered 404 for this media id on this channel. */
  mediaMissing(channel: string, id: string): string {
    return `${this.prefix}:media-missing:${channel}:${id}`;
  }
  /** hash: a channel's template list as last loaded from CBOT (`list` JSON, `at` ms, `stale` '1'), shared by every ingress. */
  templates(channel: string): string {
    return `${this.prefix}:tpl:${channel}`;
  }
  /** string with TTL: one ingress loads a channel's template list at a time. */
  templatesLock(channel: string): string {
    return `${this.prefix}:tpl:${channel}:lock`;
  }
  /** string with TTL: one fanout trims a subscriber's queue at a time. */
  retentionLock(subscriber: string): string {
    return `${this.prefix}:retention-lock:${subscriber}`;
  }
}

/** Keys under one outbound partition's base. */
export class PartitionKeys {
  constructor(readonly base: string) {}

  /** hash: the message record (fields in docs/data-layer.md). */
  record(id: string): string {
    return `${this.base}:msg:${id}`;
  }
  /** string: the message body as accepted. */
  body(id: string): string {
    return `${this.base}:body:${id}`;
  }
  /** string `<fingerprint>|<id>`: an Idempotency-Key; accepts without one name `idem:-` (never written). */
  idempotency(caller: string, key: string | undefined): string {
    return key === undefined ? `${this.base}:idem:-` : `${this.base}:idem:${caller}:${key}`;
  }
  /** string: the first body's fingerprint of an Idempotency-Key, in the key's home partition (partitions > 1). */
  idempotencyFingerprint(caller: string, key: string): string {
    return `${this.base}:idp:${caller}:${key}`;
  }
  /** zset: open messages by acceptance time (the backlog). */
  get open(): string {
    return `${this.base}:open`;
  }
  /** counter: body bytes of open messages. */
  get openBytes(): string {
    return `${this.base}:open:bytes`;
  }
  /** zset: failed messages by failure time (the dead letters). */
  get deadLetters(): string {
    return `${this.base}:dlq`;
  }
  /** counter: resends after a possibly lost CBOT answer. */
  get ambiguous(): string {
    return `${this.base}:ambiguous`;
  }
  /** counter: lease tokens. */
  get fence(): string {
    return `${this.base}:o:fence`;
  }
  /** hash: caller → weight. */
  get weights(): string {
    return `${this.base}:o:weights`;
  }
  /** string: a claim found nothing; the next accept publishes on `wake`. */
  get idle(): string {
    return `${this.base}:o:idle`;
  }
  /** Pub/Sub channel: accepts wake idle dispatchers. */
  get wake(): string {
    return `${this.base}:o:wake`;
  }
  /** string: set while the history store is on (HISTORY_DATABASE_URL); record changes then mark `historyDirty`. */
  get historyOn(): string {
    return `${this.base}:hist:on`;
  }
  /** zset: records changed since the history writer last copied them, by time of the change (ms). */
  get historyDirty(): string {
    return `${this.base}:hist:dirty`;
  }
  /** hash `<caller>|<h|n|b>` → queued messages. */
  get pending(): string {
    return `${this.base}:o:pending`;
  }
  /** hash: channel id → messages queued on it. */
  get channels(): string {
    return `${this.base}:channels`;
  }
  /** zset: one caller's messages by acceptance time. */
  callerIndex(caller: string): string {
    return `${this.base}:ix:c:${caller}`;
  }
  /** zset: one recipient's messages by acceptance time. */
  recipientIndex(to: string): string {
    return `${this.base}:ix:t:${to}`;
  }
  /** zset: one caller's messages with one X-Relay-Tag, by acceptance time (kept MAX_SEND_AHEAD_S longer). */
  tagIndex(caller: string, tag: string): string {
    return `${this.base}:ix:g:${caller}:${tag}`;
  }
  /** counter: the acceptance sequence of scheduled messages (ties of one due time keep acceptance order). */
  get scheduleSeq(): string {
    return `${this.base}:o:seq`;
  }
  /** set: callers with a caller index. */
  get indexedCallers(): string {
    return `${this.base}:ix:callers`;
  }
  /** hash: channel id → number quality (GREEN, YELLOW, RED) from phone_number_quality_update; partition 0's is read. */
  get channelQuality(): string {
    return `${this.base}:ch:quality`;
  }
  /** Prefix of the daily usage hashes: `<prefix><days since 1970-01-01 UTC>` (keys.lua's kusage). */
  get usagePrefix(): string {
    return `${this.base}:usage:`;
  }
  /** hash `<channel>|<caller>|<category>|<type>` → messages priced on that UTC day. */
  usage(day: number): string {
    return `${this.usagePrefix}${day}`;
  }
  /** The scheduler keys of one channel in this partition. */
  channel(channel: string): ChannelKeys {
    return new ChannelKeys(channelKeyBase(this.base, channel));
  }
}

/** One channel's scheduler (and CBOT id correlation) in one partition. */
export class ChannelKeys {
  constructor(readonly base: string) {}

  /** list: the recipient's pending messages, oldest first, each `<h|n|b><relay id>`. */
  queue(to: string): string {
    return `${this.base}:o:q:${to}`;
  }
  /** hash: the recipient's scheduler state. */
  recipient(to: string): string {
    return `${this.base}:o:r:${to}`;
  }
  /** list: callers with ready recipients at priority p (h|n|b), served round robin. */
  ring(p: string): string {
    return `${this.base}:o:ring:${p}`;
  }
  /** list: caller c's ready recipients at priority p, as `<version>|<to>`. */
  ready(p: string, caller: string): string {
    return `${this.base}:o:ready:${p}:${caller}`;
  }
  /** hash: picks each caller has had in its current turn at priority p. */
  credit(p: string): string {
    return `${this.base}:o:credit:${p}`;
  }
  /** zset: held recipients by due time. */
  get held(): string {
    return `${this.base}:o:held`;
  }
  /** zset: scheduled messages not yet due, by due time, each `<16-digit acceptance sequence>|<relay id>`. */
  get scheduled(): string {
    return `${this.base}:o:sched`;
  }
  /** zset: leased recipients by lease expiry. */
  get leases(): string {
    return `${this.base}:o:leases`;
  }
  /** string: the send rate's GCRA theoretical arrival time (ms). */
  get gateTat(): string {
    return `${this.base}:gate:tat`;
  }
  /**
   * string: the channel is held (channel-gate.ts): JSON `{state, reason, code?, until?, seq, at}`, its TTL
   * the pause's end, none while held until resumed (a stop, an operator's pause); an older relay's `1`
   * is a throughput pause. Claims wait while it exists.
   */
  get gatePause(): string {
    return `${this.base}:gate:pause`;
  }
  /** hash: how far the automatic pauses escalated: `tMs`/`tAt` (throughput), `qMs`/`qAt` (131048); expires 48 h after the last. */
  get gateEscalation(): string {
    return `${this.base}:gate:esc`;
  }
  /** counter, no TTL: numbers every change of the channel's gate (the change's event id). */
  get gateSeq(): string {
    return `${this.base}:gate:seq`;
  }
  /**
   * string: CBOT message id → relay id, as releases before the shared buckets (`wamidBucket`) wrote it;
   * still read, and written for an hour for processes of such a release during a rolling upgrade.
   */
  wamid(wamid: string): string {
    return `${this.base}:wamid:${wamid}`;
  }
  /**
   * hash: CBOT message ids → relay ids of the messages sent on one UTC day (days since 1970-01-01), one
   * of WAMID_SLOTS per day by the wamid's SHA-1 (lua/includes/wamid.lua); field: 8 bytes of that SHA-1.
   */
  wamidBucket(day: number, slot: number): string {
    return `${this.base}:wm:${day}:${slot}`;
  }
  /** hash: statuses parked for a CBOT message id not recorded yet. */
  parkedStatus(wamid: string): string {
    return `${this.base}:wpend:${wamid}`;
  }
  /**
   * hash: WhatsApp's rules for the recipient on this channel (whatsapp-rules.md): `in` the newest
   * inbound message's time (unix s), `opt` when it opted out (ms), `oat` the time of the last opt change.
   */
  recipientRules(to: string): string {
    return `${this.base}:o:w:${to}`;
  }
  /** string: when the relay first saw an inbound message on this channel (ms): the window's "tracked since". */
  get rulesTracked(): string {
    return `${this.base}:o:wtrack`;
  }
  /** zset (all scores 0, by recipient): the channel's opted-out recipients in this partition. */
  get optOuts(): string {
    return `${this.base}:o:optouts`;
  }
  /** hash: statuses for recipient `to` with a CBOT message id the relay never recorded (reconciliation's orphans). */
  orphans(to: string): string {
    return `${this.base}:o:orph:${to}`;
  }
  /** zset: read receipts to send, wamid → due at (ms) while waiting, lease expiry while sending; claims serve it first. */
  get receipts(): string {
    return `${this.base}:o:rcpt`;
  }
  /** hash with a 24 h TTL: one read receipt's state (receipt-accept.lua); its existence is the per-wamid idempotency. */
  receipt(wamid: string): string {
    return `${this.base}:rcpt:${wamid}`;
  }
}
