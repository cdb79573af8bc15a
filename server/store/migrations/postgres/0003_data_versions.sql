-- The data versions served, kept so a verdict can be judged again on the
-- data it was recorded against. A version's parts (its layers and
-- agreements) are cut into chunks stored once each, zstd-compressed, under
-- the hex SHA-256 of their content; manifest lists each part's chunks.
CREATE TABLE data_chunks (
	hash text   PRIMARY KEY,
	size bigint NOT NULL,
	data bytea  NOT NULL
);

CREATE TABLE data_versions (
	version           text   PRIMARY KEY,
	first_served_us   bigint NOT NULL,
	last_served_us    bigint NOT NULL,
	agreements_digest text   NOT NULL,
	manifest          json   NOT NULL
);

CREATE INDEX strikes_verdict_version ON strikes (verdict_version);
