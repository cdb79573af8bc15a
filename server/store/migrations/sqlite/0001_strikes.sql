-- The strike log. Times are Unix microseconds (UTC), the same on both
-- backends; source_event_id is NULL when the source gave none, so such
-- strikes never collide.
CREATE TABLE strikes (
	id              TEXT    PRIMARY KEY,
	lon             REAL    NOT NULL CHECK (lon BETWEEN -180 AND 180),
	lat             REAL    NOT NULL CHECK (lat BETWEEN -90 AND 90),
	time_us         INTEGER NOT NULL,
	uncertainty_m   REAL    NOT NULL CHECK (uncertainty_m >= 0),
	source          TEXT    NOT NULL,
	source_event_id TEXT,
	weapon          TEXT    NOT NULL,
	notes           TEXT    NOT NULL,
	extra           TEXT    CHECK (extra IS NULL OR json_valid(extra)),
	created_us      INTEGER NOT NULL,
	updated_us      INTEGER NOT NULL,
	UNIQUE (source, source_event_id)
) STRICT;

-- List pages by (time, id).
CREATE INDEX strikes_time ON strikes (time_us, id);
