-- Up Migration
-- One row per message the relay accepted, written from Redis by the history writer (upsert on id).
-- `record` is the message as GET /v1/messages/{id} shows it; the other columns are what lists and
-- usage filter on, copied from it.
CREATE TABLE cbot_relay_messages (
  id text PRIMARY KEY,
  caller text NOT NULL,
  channel text NOT NULL,
  recipient text NOT NULL,
  status text NOT NULL,
  tag text,
  created_at timestamptz NOT NULL,
  updated_at timestamptz NOT NULL,
  category text,
  pricing_type text,
  record jsonb NOT NULL
);
-- Lists are newest first by (created_at, id), filtered by caller and/or recipient or tag.
CREATE INDEX cbot_relay_messages_caller ON cbot_relay_messages (caller, created_at DESC, id DESC);
CREATE INDEX cbot_relay_messages_recipient ON cbot_relay_messages (recipient, created_at DESC, id DESC);
CREATE INDEX cbot_relay_messages_created ON cbot_relay_messages (created_at DESC, id DESC);
CREATE INDEX cbot_relay_messages_tag ON cbot_relay_messages (tag, created_at DESC, id DESC) WHERE tag IS NOT NULL;

-- Down Migration
DROP TABLE cbot_relay_messages;
