DROP TABLE lead_import_rejections;
DROP TABLE lead_import_chunks;
DROP TABLE lead_imports;
DELETE FROM leads WHERE chat_id IS NULL OR contact_id IS NULL;
CREATE TABLE leads_prev (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    chat_id BIGINT NOT NULL REFERENCES chats(id) ON DELETE CASCADE,
    contact_id BIGINT NOT NULL REFERENCES contacts(id) ON DELETE CASCADE,
    name TEXT,
    email TEXT,
    phone TEXT,
    intent TEXT,
    summary TEXT,
    created_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    notes TEXT,
    source TEXT NOT NULL DEFAULT 'chat',
    updated_at TIMESTAMP
);
INSERT INTO leads_prev SELECT id, account_id, chat_id, contact_id, name, email, phone, intent,
    summary, created_at, status, notes, source, updated_at FROM leads;
DROP TABLE leads;
ALTER TABLE leads_prev RENAME TO leads;
CREATE INDEX leads_account_idx ON leads (account_id, id);
