-- Every strike written inserts into each index of its row and its event's,
-- and the database's work on them is most of a write's time. Events are
-- appended in time order (nearly: replicas' clocks differ a little), so a
-- BRIN index finds a time range's events in a few block ranges, rechecking
-- each row, at a fraction of a B-tree's cost to keep. strikes'
-- verdict_version index served only pruning, which reads every event's
-- record anyway.
DROP INDEX strike_events_time;
CREATE INDEX strike_events_time ON strike_events USING brin (time_us);
DROP INDEX strikes_verdict_version;
