-- Kept media: one row per attachment of a message (inbound, fetched from the channel) or per
-- uploaded file (an agent's or a visitor's, referenced by the message that sends it). The
-- bytes live in the media store under `{account_id}/{sha256}`, shared by rows with equal
-- content; a row that is `pending` is due to be fetched at `next_attempt_at`.
CREATE TABLE media (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    message_id BIGINT REFERENCES messages(id) ON DELETE CASCADE,
    origin TEXT NOT NULL,
    state TEXT NOT NULL,
    reason TEXT,
    source_url TEXT,
    kind TEXT NOT NULL,
    name TEXT,
    content_type TEXT,
    size BIGINT,
    sha256 TEXT,
    thumbnail BOOLEAN NOT NULL DEFAULT FALSE,
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TIMESTAMP,
    lease_until TIMESTAMP,
    uploaded_by BIGINT REFERENCES users(id) ON DELETE SET NULL,
    sent_mid TEXT,
    visitor_session TEXT,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE INDEX media_due_idx ON media (state, next_attempt_at);
CREATE INDEX media_message_idx ON media (message_id);
CREATE INDEX media_object_idx ON media (account_id, sha256);
CREATE INDEX media_chat_idx ON media (chat_id);
-- Objects whose last row was erased: the media worker removes them from the store once no
-- row of the account holds the same bytes again.
CREATE TABLE media_garbage (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL,
    sha256 TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL
);
