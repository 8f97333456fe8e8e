-- Integration keys: named, scoped, shown once and kept as a SHA-256 hash, found by their
-- public prefix; revoked keys stay listed. API channels keep their channel key's hash, and
-- a channel's own outgoing webhook carries its replies.
CREATE TABLE api_keys (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    prefix TEXT NOT NULL,
    secret_hash TEXT NOT NULL,
    scopes TEXT NOT NULL,
    created_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    created_at TIMESTAMP NOT NULL,
    last_used_at TIMESTAMP,
    revoked_at TIMESTAMP
);
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);
CREATE INDEX api_keys_account_idx ON api_keys (account_id, id);
ALTER TABLE channels ADD COLUMN api_key_hash TEXT;
ALTER TABLE outgoing_webhooks ADD COLUMN channel_id BIGINT REFERENCES channels(id) ON DELETE CASCADE;
