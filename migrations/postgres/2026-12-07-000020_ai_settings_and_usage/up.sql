-- A business's own AI: settings per account (channel_id 0) and per channel, the key sealed
-- under SECRETS_KEY; and the ledger of every provider call, which budgets are summed from.
CREATE TABLE ai_settings (
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id BIGINT NOT NULL DEFAULT 0,
    base_url TEXT,
    api_key_sealed TEXT,
    api_key_last4 TEXT,
    model TEXT,
    temperature DOUBLE PRECISION,
    system_prompt TEXT,
    paused BOOLEAN,
    calls_per_minute INTEGER,
    tokens_per_month BIGINT,
    updated_at TIMESTAMP NOT NULL,
    PRIMARY KEY (account_id, channel_id)
);
CREATE TABLE ai_usage (
    id BIGSERIAL PRIMARY KEY,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    channel_id BIGINT,
    feature TEXT NOT NULL,
    model TEXT NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    ok BOOLEAN NOT NULL,
    latency_ms INTEGER NOT NULL,
    at TIMESTAMP NOT NULL
);
CREATE INDEX ai_usage_account_at_idx ON ai_usage (account_id, at);
CREATE INDEX ai_usage_channel_at_idx ON ai_usage (account_id, channel_id, at);
