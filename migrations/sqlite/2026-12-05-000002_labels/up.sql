-- Labels: an account's tags, put on chats and on contacts; the inbox filters by them.
CREATE TABLE labels (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    name TEXT NOT NULL,
    color TEXT NOT NULL,
    created_at TIMESTAMP NOT NULL,
    updated_at TIMESTAMP NOT NULL
);
CREATE UNIQUE INDEX labels_name_key ON labels (account_id, name);
CREATE TABLE chat_labels (
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    label_id BIGINT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (chat_id, label_id)
);
CREATE INDEX chat_labels_label_idx ON chat_labels (label_id, chat_id);
CREATE TABLE contact_labels (
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    label_id BIGINT NOT NULL REFERENCES labels(id) ON DELETE CASCADE,
    created_at TIMESTAMP NOT NULL,
    PRIMARY KEY (contact_id, label_id)
);
CREATE INDEX contact_labels_label_idx ON contact_labels (label_id, contact_id);
