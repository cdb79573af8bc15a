-- The data versions served, kept so a verdict can be judged again on the
-- data it was recorded against. A version's parts (its layers and
-- agreements) are cut into chunks stored once each, zstd-compressed, under
-- the hex SHA-256 of their content; manifest lists each part's chunks.
CREATE TABLE data_chunks (
	hash TEXT    PRIMARY KEY,
	size INTEGER NOT NULL,
	data BLOB    NOT NULL
) STRICT;

CREATE TABLE data_versions (
	version           TEXT    PRIMARY KEY,
	first_served_us   INTEGER NOT NULL,
	last_served_us    INTEGER NOT NULL,
	agreements_digest TEXT    NOT NULL,
	manifest          TEXT    NOT NULL CHECK (json_valid(manifest))
) STRICT;

CREATE INDEX strikes_verdict_version ON strikes (verdict_version);
