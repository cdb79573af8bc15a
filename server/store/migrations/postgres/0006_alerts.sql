-- Alert subscriptions: who asked (the token's name), what (spec: the
-- distance and sites, and the webhook, as JSON), the webhook's signing
-- secret, and the last event committed when it was made (a subscription
-- hears of later strikes only).
CREATE TABLE alert_subscriptions (
	id         text    PRIMARY KEY,
	owner      text    NOT NULL,
	spec       text    NOT NULL,
	secret     text    NOT NULL,
	after_seq  bigint  NOT NULL,
	created_us bigint  NOT NULL
);
CREATE INDEX alert_subscriptions_owner ON alert_subscriptions (owner, created_us);

-- Webhook deliveries: pending until sent, then delivered, or dead after
-- their last attempt (the dead-letter list). next_us is when a pending one
-- is next tried; taking one moves it on by a lease, so one replica sends it.
-- Deleting a subscription deletes its deliveries first (SQLite does not
-- enforce the reference).
CREATE TABLE alert_deliveries (
	id              bigserial PRIMARY KEY,
	subscription_id text    NOT NULL REFERENCES alert_subscriptions (id),
	seq             bigint  NOT NULL,
	payload         text    NOT NULL,
	state           text    NOT NULL CHECK (state IN ('pending', 'delivered', 'dead')),
	attempts        bigint  NOT NULL,
	next_us         bigint  NOT NULL,
	last_error      text    NOT NULL,
	created_us      bigint  NOT NULL,
	UNIQUE (subscription_id, seq)
);
CREATE INDEX alert_deliveries_due ON alert_deliveries (state, next_us);

-- The last event matched against the subscriptions: advanced only from the
-- value read, so of several replicas one matches each event.
CREATE TABLE alert_progress (
	id  integer PRIMARY KEY CHECK (id = 1),
	seq bigint  NOT NULL
);
INSERT INTO alert_progress (id, seq) SELECT 1, COALESCE(MAX(seq), 0) FROM strike_events;
