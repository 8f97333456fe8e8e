-- Accounts are the walls: every other row belongs to one. `event_seq` is the
-- per-account counter that numbers events inside the committing transaction.
CREATE TABLE accounts (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    name VARCHAR(255) NOT NULL,
    event_seq BIGINT NOT NULL DEFAULT 0,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE users (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    email VARCHAR(255) NOT NULL,
    name VARCHAR(255) NOT NULL,
    role VARCHAR(255) NOT NULL,
    password_hash VARCHAR(255),
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    can_receive_new_chats BOOLEAN NOT NULL DEFAULT FALSE,
    max_open_chats INTEGER,
    status VARCHAR(255) NOT NULL DEFAULT 'online',
    last_seen_at DATETIME(6),
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX users_email_key ON users (email);
CREATE INDEX users_account_idx ON users (account_id, id);

CREATE TABLE sessions (
    id VARCHAR(64) PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    ip VARCHAR(255),
    user_agent TEXT,
    created_at DATETIME(6) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    revoked_at DATETIME(6),
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX sessions_user_idx ON sessions (user_id);

CREATE TABLE password_tokens (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    token_hash VARCHAR(255) NOT NULL,
    purpose VARCHAR(255) NOT NULL,
    expires_at DATETIME(6) NOT NULL,
    used_at DATETIME(6),
    created_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX password_tokens_hash_key ON password_tokens (token_hash);
CREATE INDEX password_tokens_user_idx ON password_tokens (user_id);

CREATE TABLE channels (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    kind VARCHAR(255) NOT NULL,
    name VARCHAR(255) NOT NULL,
    external_id VARCHAR(255),
    access_token TEXT,
    widget_key VARCHAR(255),
    allowed_origins TEXT NOT NULL,
    ai_enabled BOOLEAN NOT NULL DEFAULT FALSE,
    ai_system_prompt TEXT,
    ai_model VARCHAR(255),
    ai_temperature DOUBLE,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX channels_external_key ON channels (kind, external_id);
CREATE UNIQUE INDEX channels_widget_key ON channels (widget_key);
CREATE INDEX channels_account_idx ON channels (account_id);

CREATE TABLE contacts (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    external_id VARCHAR(255) NOT NULL,
    name VARCHAR(255),
    email VARCHAR(255),
    phone VARCHAR(255),
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (channel_id) REFERENCES channels(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX contacts_channel_external_key ON contacts (channel_id, external_id);
CREATE INDEX contacts_account_idx ON contacts (account_id);

CREATE TABLE widget_sessions (
    id VARCHAR(64) PRIMARY KEY NOT NULL,
    account_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    token_hash VARCHAR(255) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    last_seen_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (channel_id) REFERENCES channels(id) ON DELETE CASCADE,
    FOREIGN KEY (contact_id) REFERENCES contacts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX widget_sessions_token_key ON widget_sessions (token_hash);

CREATE TABLE chats (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    status VARCHAR(255) NOT NULL,
    assignee_id BIGINT,
    last_message_at DATETIME(6),
    last_inbound_at DATETIME(6),
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    resolved_at DATETIME(6),
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (channel_id) REFERENCES channels(id) ON DELETE CASCADE,
    FOREIGN KEY (contact_id) REFERENCES contacts(id) ON DELETE CASCADE,
    FOREIGN KEY (assignee_id) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX chats_account_activity_idx ON chats (account_id, last_message_at, id);
CREATE INDEX chats_account_status_idx ON chats (account_id, status, created_at);
CREATE INDEX chats_assignee_idx ON chats (assignee_id, status);
CREATE INDEX chats_contact_idx ON chats (contact_id, channel_id, status);

CREATE TABLE messages (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    channel_id BIGINT NOT NULL,
    direction VARCHAR(255) NOT NULL,
    sender_kind VARCHAR(255) NOT NULL,
    sender_id BIGINT,
    external_id VARCHAR(255),
    text MEDIUMTEXT,
    attachments TEXT,
    reply_to VARCHAR(255),
    is_private BOOLEAN NOT NULL DEFAULT FALSE,
    is_deleted BOOLEAN NOT NULL DEFAULT FALSE,
    delivery_status VARCHAR(255) NOT NULL,
    delivery_error TEXT,
    delivery_attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6),
    ai_model VARCHAR(255),
    prompt_tokens INTEGER,
    completion_tokens INTEGER,
    ai_latency_ms INTEGER,
    sent_at DATETIME(6) NOT NULL,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (chat_id) REFERENCES chats(id) ON DELETE CASCADE,
    FOREIGN KEY (channel_id) REFERENCES channels(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX messages_channel_external_key ON messages (channel_id, external_id);
CREATE INDEX messages_chat_idx ON messages (chat_id, id);
CREATE INDEX messages_pending_idx ON messages (delivery_status, next_attempt_at);

CREATE TABLE chat_reads (
    chat_id BIGINT NOT NULL,
    user_id BIGINT NOT NULL,
    account_id BIGINT NOT NULL,
    last_read_message_id BIGINT NOT NULL,
    read_at DATETIME(6) NOT NULL,
    PRIMARY KEY (chat_id, user_id),
    FOREIGN KEY (chat_id) REFERENCES chats(id) ON DELETE CASCADE,
    FOREIGN KEY (user_id) REFERENCES users(id) ON DELETE CASCADE,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE events (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    seq BIGINT NOT NULL,
    event_type VARCHAR(255) NOT NULL,
    chat_id BIGINT,
    payload MEDIUMTEXT NOT NULL,
    created_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX events_account_seq_key ON events (account_id, seq);
CREATE INDEX events_created_idx ON events (created_at);

CREATE TABLE assignment_cursors (
    account_id BIGINT PRIMARY KEY NOT NULL,
    last_user_id BIGINT NOT NULL DEFAULT 0,
    updated_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE leads (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    contact_id BIGINT NOT NULL,
    name VARCHAR(255),
    email VARCHAR(255),
    phone VARCHAR(255),
    intent TEXT,
    summary TEXT,
    created_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (chat_id) REFERENCES chats(id) ON DELETE CASCADE,
    FOREIGN KEY (contact_id) REFERENCES contacts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX leads_account_idx ON leads (account_id, id);

CREATE TABLE outgoing_webhooks (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    url TEXT NOT NULL,
    secret VARCHAR(255) NOT NULL,
    event_types TEXT NOT NULL,
    is_active BOOLEAN NOT NULL DEFAULT TRUE,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX outgoing_webhooks_account_idx ON outgoing_webhooks (account_id);

CREATE TABLE webhook_deliveries (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    webhook_id BIGINT NOT NULL,
    event_seq BIGINT NOT NULL,
    event_type VARCHAR(255) NOT NULL,
    payload MEDIUMTEXT NOT NULL,
    status VARCHAR(255) NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6),
    last_status_code INTEGER,
    last_error TEXT,
    created_at DATETIME(6) NOT NULL,
    delivered_at DATETIME(6),
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (webhook_id) REFERENCES outgoing_webhooks(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX webhook_deliveries_event_key ON webhook_deliveries (webhook_id, event_seq);
CREATE INDEX webhook_deliveries_due_idx ON webhook_deliveries (status, next_attempt_at);

CREATE TABLE audit_log (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    actor_user_id BIGINT,
    action VARCHAR(255) NOT NULL,
    target_type VARCHAR(255),
    target_id VARCHAR(255),
    ip VARCHAR(255),
    details TEXT,
    created_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX audit_log_account_idx ON audit_log (account_id, id);
