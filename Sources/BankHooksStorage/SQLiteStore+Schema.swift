import GRDB

extension SQLiteStore {
    /// The schema's history: append-only, registered by name, never edited.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1-engine") { db in
            try db.execute(sql: """
                CREATE TABLE applications (
                    id TEXT PRIMARY KEY NOT NULL,
                    name TEXT NOT NULL,
                    environment TEXT NOT NULL CHECK (environment IN ('sandbox', 'production')),
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE api_keys (
                    id TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    role TEXT NOT NULL CHECK (role IN ('operator', 'admin', 'developer', 'viewer')),
                    hash BLOB NOT NULL,
                    created_at INTEGER NOT NULL,
                    revoked_at INTEGER
                );
                CREATE INDEX api_keys_application ON api_keys(application_id);
                CREATE TABLE webhooks (
                    id TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    url TEXT NOT NULL,
                    name TEXT,
                    event_types TEXT,            -- JSON array; NULL means every type
                    format TEXT NOT NULL,
                    secret TEXT NOT NULL,
                    previous_secret TEXT,
                    previous_secret_expires_at INTEGER,
                    is_enabled INTEGER NOT NULL DEFAULT 1,
                    disabled_reason TEXT,
                    created_at INTEGER NOT NULL,
                    updated_at INTEGER NOT NULL
                );
                CREATE INDEX webhooks_application ON webhooks(application_id, id);
                -- Written once; the payload never changes.
                CREATE TABLE events (
                    seq INTEGER PRIMARY KEY,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    id TEXT NOT NULL,
                    idempotency_key TEXT,
                    type TEXT NOT NULL,
                    timestamp INTEGER NOT NULL,
                    data BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE UNIQUE INDEX events_application_id ON events(application_id, id);
                CREATE UNIQUE INDEX events_application_idempotency_key ON events(application_id, idempotency_key)
                    WHERE idempotency_key IS NOT NULL;
                -- Small and hot. state: 0 pending, 1 succeeded, 2 failed, 3 cancelled,
                -- 4 held (pending while its webhook is disabled). While leased, next_attempt_at
                -- is the lease's expiry, so one partial index finds both due and expired work.
                CREATE TABLE deliveries (
                    id INTEGER PRIMARY KEY,
                    event_seq INTEGER NOT NULL REFERENCES events(seq) ON DELETE CASCADE,
                    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
                    application_id TEXT NOT NULL,
                    state INTEGER NOT NULL DEFAULT 0 CHECK (state BETWEEN 0 AND 4),
                    attempts INTEGER NOT NULL DEFAULT 0,
                    next_attempt_at INTEGER,
                    lease_owner TEXT,
                    last_attempt_at INTEGER,
                    last_status INTEGER,
                    created_at INTEGER NOT NULL
                );
                CREATE INDEX deliveries_due ON deliveries(next_attempt_at) WHERE state = 0;
                CREATE INDEX deliveries_event ON deliveries(event_seq);
                CREATE INDEX deliveries_webhook ON deliveries(webhook_id, state);
                -- Append-only.
                CREATE TABLE attempts (
                    id INTEGER PRIMARY KEY,
                    delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,
                    number INTEGER NOT NULL,
                    started_at INTEGER NOT NULL,
                    duration_us INTEGER NOT NULL,
                    status INTEGER,
                    response_excerpt TEXT,
                    error_kind TEXT,
                    error_message TEXT
                );
                CREATE INDEX attempts_delivery ON attempts(delivery_id, number);
                """)
        }
        migrator.registerMigration("v2-webhook-due") { db in
            // Lets a claim find one webhook's due deliveries without walking another's backlog.
            try db.execute(sql: """
                CREATE INDEX deliveries_webhook_due ON deliveries(webhook_id, next_attempt_at) WHERE state = 0;
                """)
        }
        migrator.registerMigration("v3-formats") { db in
            try db.execute(sql: """
                -- The publisher's own timestamp text (sub-millisecond digits), and what the event is about.
                ALTER TABLE events ADD COLUMN timestamp_text TEXT;
                ALTER TABLE events ADD COLUMN subject TEXT;
                CREATE INDEX events_subject ON events(application_id, subject, seq) WHERE subject IS NOT NULL;
                ALTER TABLE webhooks ADD COLUMN kind TEXT NOT NULL DEFAULT 'webhook' CHECK (kind IN ('webhook', 'callback_url'));
                ALTER TABLE webhooks ADD COLUMN bearer_token TEXT;
                CREATE TABLE event_types (
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    name TEXT NOT NULL,
                    description TEXT NOT NULL,
                    schema TEXT,
                    created_at INTEGER NOT NULL,
                    PRIMARY KEY (application_id, name)
                );
                """)
        }
        migrator.registerMigration("v4-applications") { db in
            try db.execute(sql: """
                ALTER TABLE applications ADD COLUMN webhook_limit INTEGER NOT NULL DEFAULT 10 CHECK (webhook_limit >= 0);
                ALTER TABLE applications ADD COLUMN redirect_callbacks TEXT NOT NULL DEFAULT '[]';  -- JSON array
                ALTER TABLE applications ADD COLUMN allows_plain_http INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v5-auto-disable") { db in
            try db.execute(sql: """
                -- The first failed attempt since the webhook's last success; NULL while it succeeds.
                ALTER TABLE webhooks ADD COLUMN failing_since INTEGER;
                ALTER TABLE webhooks ADD COLUMN disabled_at INTEGER;
                -- 0 while a disable by BankHooks still has to be announced with `webhook.disabled`.
                ALTER TABLE webhooks ADD COLUMN disable_announced INTEGER NOT NULL DEFAULT 1;
                """)
        }
        migrator.registerMigration("v6-one-callback-url") { db in
            try db.execute(sql: "CREATE UNIQUE INDEX webhooks_one_callback_url ON webhooks(application_id) WHERE kind = 'callback_url'")
        }
        migrator.registerMigration("v7-delivery-log") { db in
            try db.execute(sql: """
                -- The request headers an attempt sent, as a JSON object with secrets redacted.
                ALTER TABLE attempts ADD COLUMN request_headers TEXT;
                -- Event lists, newest first, by application and optionally type (keyset on created_at, seq).
                CREATE INDEX events_application_created ON events(application_id, created_at, seq);
                CREATE INDEX events_application_type_created ON events(application_id, type, created_at, seq);
                -- A webhook's deliveries newest first; (webhook_id, state) serves the status filter.
                CREATE INDEX deliveries_webhook_id ON deliveries(webhook_id, id);
                -- Per-webhook delivery settings: custom headers (JSON [[name, value]], sealed like secrets),
                -- retry delays in seconds (JSON array; NULL is the format's schedule), deliveries per second.
                ALTER TABLE webhooks ADD COLUMN headers TEXT;
                ALTER TABLE webhooks ADD COLUMN retry_schedule TEXT;
                ALTER TABLE webhooks ADD COLUMN rate_limit REAL;
                -- Recovery jobs: re-send a webhook's failed deliveries created in [since, until), in id
                -- order up to last_delivery_id (fixed at creation); cursor is the last id handled.
                CREATE TABLE recoveries (
                    id TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
                    since INTEGER NOT NULL,
                    until INTEGER,
                    state TEXT NOT NULL CHECK (state IN ('running', 'completed')),
                    last_delivery_id INTEGER NOT NULL,
                    cursor INTEGER NOT NULL DEFAULT 0,
                    total INTEGER NOT NULL,
                    processed INTEGER NOT NULL DEFAULT 0,
                    succeeded INTEGER NOT NULL DEFAULT 0,
                    failed INTEGER NOT NULL DEFAULT 0,
                    created_at INTEGER NOT NULL,
                    finished_at INTEGER
                );
                CREATE INDEX recoveries_running ON recoveries(created_at) WHERE state = 'running';
                """)
        }
        migrator.registerMigration("v8-one-running-recovery") { db in
            try db.execute(sql: """
                -- At most one running recovery per webhook. Of several already running, the oldest goes on and
                -- the newer ones are completed as they stand (a new request may start one when it is done).
                UPDATE recoveries SET state = 'completed', finished_at = created_at
                WHERE state = 'running' AND EXISTS (
                    SELECT 1 FROM recoveries older WHERE older.webhook_id = recoveries.webhook_id AND older.state = 'running'
                      AND (older.created_at < recoveries.created_at OR (older.created_at = recoveries.created_at AND older.id < recoveries.id)));
                CREATE UNIQUE INDEX recoveries_one_running ON recoveries(webhook_id) WHERE state = 'running';
                """)
        }
        migrator.registerMigration("v9-sandbox") { db in
            try db.execute(sql: """
                -- The sandbox bank (issue 11). Every row belongs to an application and goes with it.
                -- An application's availability document (InstitutionAvailability JSON) per institution it changed.
                CREATE TABLE institution_availability (
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    institution_id TEXT NOT NULL,
                    document BLOB NOT NULL,
                    updated_at INTEGER NOT NULL,
                    PRIMARY KEY (application_id, institution_id)
                ) WITHOUT ROWID;
                -- permissions and forward_parameters: JSON arrays of strings.
                CREATE TABLE authorisations (
                    id TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    institution_id TEXT NOT NULL,
                    application_user_id TEXT,
                    user_uuid TEXT NOT NULL,
                    callback TEXT NOT NULL,
                    one_time_token INTEGER NOT NULL,
                    permissions TEXT NOT NULL,
                    forward_parameters TEXT NOT NULL,
                    state TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('AWAITING_AUTHORIZATION', 'AUTHORIZED', 'REJECTED', 'FAILED', 'EXPIRED')),
                    created_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    completed_at INTEGER,
                    redirect_url TEXT
                );
                CREATE INDEX authorisations_application ON authorisations(application_id);
                -- seq orders consents created in the same millisecond; lists are newest first by (created_at, seq).
                CREATE TABLE consents (
                    seq INTEGER PRIMARY KEY,
                    id TEXT NOT NULL UNIQUE,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    authorisation_id TEXT NOT NULL REFERENCES authorisations(id) ON DELETE CASCADE,
                    institution_id TEXT NOT NULL,
                    application_user_id TEXT,
                    user_uuid TEXT NOT NULL,
                    login TEXT NOT NULL,
                    permissions TEXT NOT NULL,
                    status TEXT NOT NULL CHECK (status IN ('AUTHORIZED', 'REVOKED', 'EXPIRED')),
                    created_at INTEGER NOT NULL,
                    authorized_at INTEGER NOT NULL,
                    expires_at INTEGER NOT NULL,
                    revoked_at INTEGER,
                    lean_entity_id TEXT NOT NULL,
                    okra_record_id TEXT NOT NULL,
                    bridge_item_id INTEGER NOT NULL
                );
                CREATE INDEX consents_application_created ON consents(application_id, created_at, seq);
                CREATE INDEX consents_application_user ON consents(application_id, application_user_id, created_at, seq)
                    WHERE application_user_id IS NOT NULL;
                CREATE INDEX consents_user_uuid ON consents(application_id, user_uuid, created_at, seq);
                CREATE INDEX consents_institution ON consents(application_id, institution_id, created_at, seq);
                CREATE INDEX consents_authorisation ON consents(authorisation_id);
                -- Only the SHA-256 (hex) of a token is kept; used_at is set once, by the redeem that wins.
                CREATE TABLE one_time_tokens (
                    token_hash TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    consent_id TEXT NOT NULL REFERENCES consents(id) ON DELETE CASCADE,
                    expires_at INTEGER NOT NULL,
                    used_at INTEGER
                ) WITHOUT ROWID;
                CREATE INDEX one_time_tokens_application ON one_time_tokens(application_id);
                CREATE INDEX one_time_tokens_consent ON one_time_tokens(consent_id);
                -- document: the sandbox's free-form details (a JSON object).
                CREATE TABLE sandbox_payment_sources (
                    id TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    customer_id TEXT NOT NULL,
                    beneficiary_id TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    beneficiary_active_at INTEGER NOT NULL,
                    document BLOB NOT NULL,
                    UNIQUE (application_id, id)
                );
                -- A payment names a payment source of its own application (or none).
                CREATE TABLE sandbox_payments (
                    id TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    payment_source_id TEXT,
                    amount TEXT NOT NULL,
                    currency TEXT NOT NULL,
                    reference TEXT NOT NULL,
                    initial_status TEXT NOT NULL,
                    final_status TEXT NOT NULL,
                    created_at INTEGER NOT NULL,
                    settles_at INTEGER NOT NULL,
                    document BLOB NOT NULL,
                    FOREIGN KEY (application_id, payment_source_id) REFERENCES sandbox_payment_sources(application_id, id) ON DELETE CASCADE
                );
                CREATE INDEX sandbox_payments_source ON sandbox_payments(application_id, payment_source_id);
                -- Events committed with the change that sets them off, published by the runner when due, then deleted.
                -- webhook_id is not a reference: a webhook deleted meanwhile must not fail the change (the publish says so).
                CREATE TABLE scheduled_events (
                    id TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    due_at INTEGER NOT NULL,
                    type TEXT NOT NULL,
                    data BLOB NOT NULL,
                    webhook_id TEXT
                );
                CREATE INDEX scheduled_events_due ON scheduled_events(due_at, id);
                CREATE INDEX scheduled_events_application ON scheduled_events(application_id);
                """)
        }
        migrator.registerMigration("v10-sandbox-wrong-passwords") { db in
            try db.execute(sql: """
                -- Wrong passwords tried on an awaiting authorisation (at most SandboxBank's limit; the next one fails it).
                ALTER TABLE authorisations ADD COLUMN wrong_passwords INTEGER NOT NULL DEFAULT 0;
                """)
        }
        migrator.registerMigration("v11-yapily") { db in
            try db.execute(sql: """
                -- The Yapily facade: one credential per application (only the secret's SHA-256), its users, and the
                -- kind of the Yapily request behind a sandbox authorisation (none: an account request).
                CREATE TABLE yapily_credentials (
                    id TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL UNIQUE REFERENCES applications(id) ON DELETE CASCADE,
                    secret_hash BLOB NOT NULL,
                    created_at INTEGER NOT NULL
                );
                CREATE TABLE yapily_users (
                    uuid TEXT PRIMARY KEY NOT NULL,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    application_user_id TEXT NOT NULL,
                    reference_id TEXT,
                    created_at INTEGER NOT NULL,
                    UNIQUE (application_id, application_user_id)
                );
                CREATE TABLE yapily_requests (
                    authorisation_id TEXT PRIMARY KEY NOT NULL REFERENCES authorisations(id) ON DELETE CASCADE,
                    application_id TEXT NOT NULL REFERENCES applications(id) ON DELETE CASCADE,
                    kind TEXT NOT NULL CHECK (kind IN ('account', 'payment'))
                );
                CREATE INDEX yapily_requests_application ON yapily_requests(application_id);
                """)
        }
        migrator.registerMigration("v12-attempt-hours") { db in
            try db.execute(sql: """
                -- Each webhook's attempts per UTC hour, for the dashboard's 24-hour figures: kept by the record path in
                -- the transaction that stores the attempts. hour: the hour's start (ms, a multiple of 3,600,000);
                -- succeeded: attempts whose answer was a success in the webhook's format (a 2xx; 200 for lean).
                CREATE TABLE webhook_attempt_hours (
                    webhook_id TEXT NOT NULL REFERENCES webhooks(id) ON DELETE CASCADE,
                    hour INTEGER NOT NULL,
                    succeeded INTEGER NOT NULL DEFAULT 0,
                    failed INTEGER NOT NULL DEFAULT 0,
                    last_attempt_at INTEGER NOT NULL,
                    PRIMARY KEY (webhook_id, hour)
                ) WITHOUT ROWID;
                -- The last 25 hours from the attempts already stored, so the figures are true from the upgrade on.
                INSERT INTO webhook_attempt_hours (webhook_id, hour, succeeded, failed, last_attempt_at)
                SELECT d.webhook_id, a.started_at - a.started_at % 3600000,
                       sum(CASE WHEN a.status BETWEEN 200 AND 299 AND (w.format <> 'lean' OR a.status = 200) THEN 1 ELSE 0 END),
                       sum(CASE WHEN a.status BETWEEN 200 AND 299 AND (w.format <> 'lean' OR a.status = 200) THEN 0 ELSE 1 END),
                       max(a.started_at)
                FROM attempts a JOIN deliveries d ON d.id = a.delivery_id JOIN webhooks w ON w.id = d.webhook_id
                WHERE a.started_at >= (CAST(strftime('%s', 'now') AS INTEGER) - 25 * 3600) * 1000
                GROUP BY 1, 2;
                """)
        }
        migrator.registerMigration("v13-reauthorisations") { db in
            try db.execute(sql: """
                -- A re-authorisation journey (Yapily's PATCH /account-auth-requests) names the consent it re-authorises.
                ALTER TABLE authorisations ADD COLUMN reauthorises_consent_id TEXT;
                CREATE INDEX authorisations_reauthorises ON authorisations(application_id, reauthorises_consent_id)
                    WHERE reauthorises_consent_id IS NOT NULL;
                """)
        }
        return migrator
    }
}
