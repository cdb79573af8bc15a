-- The strikes table again, without the check that extra is valid JSON
-- (the store checks it before writing, as it did already): SQLite cannot
-- drop a check, so the table is made anew and its rows copied. A JSON
-- function in a check may stop a many-row INSERT halfway, so SQLite kept a
-- statement journal of every page each INSERT of strikes changed, to undo
-- it alone; without it, a failed check fails the write whole.
CREATE TABLE strikes_unchecked (
	id              TEXT    PRIMARY KEY,
	lon             REAL    NOT NULL CHECK (lon BETWEEN -180 AND 180),
	lat             REAL    NOT NULL CHECK (lat BETWEEN -90 AND 90),
	time_us         INTEGER NOT NULL,
	uncertainty_m   REAL    NOT NULL CHECK (uncertainty_m >= 0),
	source          TEXT    NOT NULL,
	source_event_id TEXT,
	weapon          TEXT    NOT NULL,
	notes           TEXT    NOT NULL,
	extra           TEXT,
	created_us      INTEGER NOT NULL,
	updated_us      INTEGER NOT NULL,
	verdict_version TEXT,
	deleted_us      INTEGER,
	end_us          INTEGER CHECK (end_us IS NULL OR end_us >= time_us),
	UNIQUE (source, source_event_id)
) STRICT;

INSERT INTO strikes_unchecked (id, lon, lat, time_us, uncertainty_m, source, source_event_id, weapon, notes, extra,
	created_us, updated_us, verdict_version, deleted_us, end_us)
SELECT id, lon, lat, time_us, uncertainty_m, source, source_event_id, weapon, notes, extra,
	created_us, updated_us, verdict_version, deleted_us, end_us FROM strikes ORDER BY rowid;

DROP TABLE strikes;
ALTER TABLE strikes_unchecked RENAME TO strikes;
CREATE INDEX strikes_time ON strikes (time_us, id);
CREATE INDEX strikes_verdict_version ON strikes (verdict_version);
