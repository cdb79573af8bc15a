-- Alert subscriptions: who asked (the token's name), what (spec: the
-- distance and sites, and the webhook, as JSON), the webhook's signing
-- secret, and the last event committed when it was made (a subscription
-- hears of later strikes only).
CREATE TABLE alert_subscriptions (
	id         TEXT    PRIMARY KEY,
	owner      TEXT    NOT NULL,
	spec       TEXT    NOT NULL,
	secret     TEXT    NOT NULL,
	after_seq  INTEGER NOT NULL,
	created_us INTEGER NOT NULL
);
CREATE INDEX alert_subscriptions_owner ON alert_subscriptions (owner, created_us);

-- Webhook deliveries: pending until sent, then delivered, or dead after
-- their last attempt (the dead-letter list). next_us is when a pending one
-- is next tried; taking one moves it on by a lease, so one replica sends it.
-- Deleting a subscription deletes its deliveries first (SQLite does not
-- enforce the reference).
CREATE TABLE alert_deliveries (
	id              INTEGER PRIMARY KEY AUTOINCREMENT,
	subscription_id TEXT    NOT NULL REFERENCES alert_subscriptions (id),
	seq             INTEGER NOT NULL,
	payload         TEXT    NOT NULL,
	state           TEXT    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
	attempts        INTEGER NOT NULL,
	next_us         INTEGER NOT NULL,
	last_error      TEXT    NOT NULL,
	created_us      INTEGER NOT NULL,
	UNIQUE (subscription_id, seq)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_us);

-- The last event matched against the subscriptions: advanced only from the
-- value read, so of several replicas one matches each event.
CREATE TABLE alert_progress (
	id  INTEGER PRIMARY KEY CHECK (id = 1),
	seq INTEGER NOT NULL
);
INSERT INTO alert_progress (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM strike_events;
