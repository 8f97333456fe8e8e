-- Kept media: one row per attachment of a message (inbound, fetched from the channel) or per
-- uploaded file (an agent's or a visitor's, referenced by the message that sends it). The
-- bytes live in the media store under `{account_id}/{sha256}`, shared by rows with equal
-- content; a row that is `pending` is due to be fetched at `next_attempt_at`.
CREATE TABLE media (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    chat_id BIGINT NOT NULL,
    message_id BIGINT,
    origin VARCHAR(16) NOT NULL,
    state VARCHAR(16) NOT NULL,
    reason TEXT,
    source_url TEXT,
    kind VARCHAR(16) NOT NULL,
    name TEXT,
    content_type VARCHAR(255),
    size BIGINT,
    sha256 VARCHAR(64),
    thumbnail BOOLEAN NOT NULL DEFAULT FALSE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at DATETIME(6),
    lease_until DATETIME(6),
    uploaded_by BIGINT,
    sent_mid VARCHAR(255),
    visitor_session VARCHAR(64),
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (chat_id) REFERENCES chats(id) ON DELETE CASCADE,
    FOREIGN KEY (message_id) REFERENCES messages(id) ON DELETE CASCADE,
    FOREIGN KEY (uploaded_by) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX media_due_idx ON media (state, next_attempt_at);
CREATE INDEX media_message_idx ON media (message_id);
CREATE INDEX media_object_idx ON media (account_id, sha256);
CREATE INDEX media_chat_idx ON media (chat_id);
-- Objects whose last row was erased: the media worker removes them from the store once no
-- row of the account holds the same bytes again.
CREATE TABLE media_garbage (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    sha256 VARCHAR(64) NOT NULL,
    created_at DATETIME(6) NOT NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
