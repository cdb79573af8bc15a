-- end_us ends the window of an event reported over several days (Unix
-- microseconds, UTC); NULL for a strike at one instant.
ALTER TABLE strikes ADD COLUMN end_us bigint CHECK (end_us IS NULL OR end_us >= time_us);
