-- Sign-ins to the admin console: a session cookie stands for the API key signed in with.

CREATE TABLE console_sessions (
    id INTEGER PRIMARY KEY,
    -- SHA-256 of the cookie's token, hex.
    token_hash TEXT NOT NULL UNIQUE,
    api_key_id BIGINT NOT NULL REFERENCES api_keys (id),
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

CREATE INDEX console_sessions_by_key ON console_sessions (api_key_id);
