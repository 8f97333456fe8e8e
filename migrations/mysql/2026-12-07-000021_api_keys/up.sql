-- Integration keys: named, scoped, shown once and kept as a SHA-256 hash, found by their
-- public prefix; revoked keys stay listed. API channels keep their channel key's hash, and
-- a channel's own outgoing webhook carries its replies.
CREATE TABLE api_keys (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    name VARCHAR(200) NOT NULL,
    prefix VARCHAR(32) NOT NULL,
    secret_hash VARCHAR(64) NOT NULL,
    scopes TEXT NOT NULL,
    created_by BIGINT,
    created_at DATETIME(6) NOT NULL,
    last_used_at DATETIME(6),
    revoked_at DATETIME(6),
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX api_keys_prefix_key ON api_keys (prefix);
CREATE INDEX api_keys_account_idx ON api_keys (account_id, id);
ALTER TABLE channels ADD COLUMN api_key_hash TEXT;
ALTER TABLE outgoing_webhooks ADD COLUMN channel_id BIGINT;
ALTER TABLE outgoing_webhooks ADD CONSTRAINT outgoing_webhooks_channel_fk FOREIGN KEY (channel_id) REFERENCES channels(id) ON DELETE CASCADE;
