-- Evidence: a strike keeps the verdict it was recorded with, a deleted
-- strike stays as a tombstone, and every change appends to a hash-chained
-- log. verdict is the recorded verdict as canonical JSON (NULL until one is
-- recorded); verdict_version names the data it was judged on, so the data
-- versions a strike depends on are found without reading the JSON.
ALTER TABLE strikes ADD COLUMN verdict TEXT CHECK (verdict IS NULL OR json_valid(verdict));
ALTER TABLE strikes ADD COLUMN verdict_version TEXT;
ALTER TABLE strikes ADD COLUMN deleted_us INTEGER;

-- The audit log: seq is gap-free and ordered (one writer at a time appends
-- seq + 1); record is the strike after the change as canonical JSON; hash is
-- hex SHA-256 over the previous event's hash and this event's canonical
-- bytes (see the store's package documentation).
CREATE TABLE strike_events (
	seq       INTEGER PRIMARY KEY,
	time_us   INTEGER NOT NULL,
	actor     TEXT    NOT NULL,
	action    TEXT    NOT NULL CHECK (action IN ('create', 'update', 'delete')),
	strike_id TEXT    NOT NULL,
	record    TEXT    NOT NULL,
	hash      TEXT    NOT NULL
) STRICT;

CREATE INDEX strike_events_strike ON strike_events (strike_id, seq);
CREATE INDEX strike_events_time ON strike_events (time_us, seq);

CREATE TRIGGER strike_events_no_update BEFORE UPDATE ON strike_events
BEGIN SELECT RAISE(ABORT, 'strike_events is append-only'); END;
CREATE TRIGGER strike_events_no_delete BEFORE DELETE ON strike_events
BEGIN SELECT RAISE(ABORT, 'strike_events is append-only'); END;
