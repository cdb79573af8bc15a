-- space_probe takes one row for a moment while the disk is full, to learn
-- whether a write that needs space can succeed again (see Ping).
CREATE TABLE space_probe (b BYTEA NOT NULL);
