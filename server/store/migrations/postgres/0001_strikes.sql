-- The strike log. Times are Unix microseconds (UTC), the same on both
-- backends; source_event_id is NULL when the source gave none, so such
-- strikes never collide. extra is json, not jsonb, to keep key order.
CREATE TABLE strikes (
	id              text             PRIMARY KEY,
	lon             double precision NOT NULL CHECK (lon BETWEEN -180 AND 180),
	lat             double precision NOT NULL CHECK (lat BETWEEN -90 AND 90),
	time_us         bigint           NOT NULL,
	uncertainty_m   double precision NOT NULL CHECK (uncertainty_m >= 0),
	source          text             NOT NULL,
	source_event_id text,
	weapon          text             NOT NULL,
	notes           text             NOT NULL,
	extra           json,
	created_us      bigint           NOT NULL,
	updated_us      bigint           NOT NULL,
	UNIQUE (source, source_event_id)
);

-- List pages by (time, id).
CREATE INDEX strikes_time ON strikes (time_us, id);
