-- Evidence: a strike keeps the verdict it was recorded with, a deleted
-- strike stays as a tombstone, and every change appends to a hash-chained
-- log. verdict is the recorded verdict as canonical JSON (NULL until one is
-- recorded); verdict_version names the data it was judged on, so the data
-- versions a strike depends on are found without reading the JSON.
ALTER TABLE strikes ADD COLUMN verdict json;
ALTER TABLE strikes ADD COLUMN verdict_version text;
ALTER TABLE strikes ADD COLUMN deleted_us bigint;

-- The audit log: seq is gap-free and ordered (appends are serialised by an
-- advisory lock, so seq + 1 commits after seq); record is the strike after
-- the change as canonical JSON, kept as text so its bytes stay the hashed
-- ones; hash is hex SHA-256 over the previous event's hash and this event's
-- canonical bytes (see the store's package documentation).
CREATE TABLE strike_events (
	seq       bigint PRIMARY KEY,
	time_us   bigint NOT NULL,
	actor     text   NOT NULL,
	action    text   NOT NULL CHECK (action IN ('create', 'update', 'delete')),
	strike_id text   NOT NULL,
	record    text   NOT NULL,
	hash      text   NOT NULL
);

CREATE INDEX strike_events_strike ON strike_events (strike_id, seq);
CREATE INDEX strike_events_time ON strike_events (time_us, seq);

CREATE FUNCTION strike_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'strike_events is append-only';
END $$;
CREATE TRIGGER strike_events_append_only BEFORE UPDATE OR DELETE ON strike_events
	FOR EACH ROW EXECUTE FUNCTION strike_events_append_only();
