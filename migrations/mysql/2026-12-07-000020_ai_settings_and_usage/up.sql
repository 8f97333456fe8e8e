-- A business's own AI: settings per account (channel_id 0) and per channel, the key sealed
-- under SECRETS_KEY; and the ledger of every provider call, which budgets are summed from.
CREATE TABLE ai_settings (
    account_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL DEFAULT 0,
    base_url TEXT,
    api_key_sealed TEXT,
    api_key_last4 VARCHAR(8),
    model TEXT,
    temperature DOUBLE,
    system_prompt MEDIUMTEXT,
    paused BOOLEAN,
    calls_per_minute INTEGER,
    tokens_per_month BIGINT,
    updated_at DATETIME(6) NOT NULL,
    PRIMARY KEY (account_id, channel_id),
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE TABLE ai_usage (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    channel_id BIGINT,
    feature VARCHAR(32) NOT NULL,
    model VARCHAR(255) NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    ok BOOLEAN NOT NULL,
    latency_ms INTEGER NOT NULL,
    at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX ai_usage_account_at_idx ON ai_usage (account_id, at);
CREATE INDEX ai_usage_channel_at_idx ON ai_usage (account_id, channel_id, at);
