-- Leads from imports as well as chats: one table (a lead need not have a chat), deduplicated
-- per account by email or phone, with what the AI made of each; imports arrive in chunks of
-- rows that are stored one chunk at a time, so a restart continues where it stopped.
CREATE TABLE leads_next (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    chat_id BIGINT REFERENCES chats(id) ON DELETE CASCADE,
    contact_id BIGINT REFERENCES contacts(id) ON DELETE CASCADE,
    name TEXT,
    email TEXT,
    phone TEXT,
    intent TEXT,
    summary TEXT,
    created_at TIMESTAMP NOT NULL,
    status TEXT NOT NULL DEFAULT 'new',
    notes TEXT,
    source TEXT NOT NULL DEFAULT 'chat',
    updated_at TIMESTAMP,
    company TEXT,
    channel TEXT,
    last_contact_at TIMESTAMP,
    extra TEXT,
    import_id BIGINT,
    needs_action BOOLEAN,
    next_action_at TIMESTAMP,
    next_action_description TEXT,
    analysis_state TEXT,
    analysis_error TEXT,
    analysis_attempts INTEGER NOT NULL DEFAULT 0,
    analysis_due_at TIMESTAMP,
    analysed_at TIMESTAMP
);
INSERT INTO leads_next (id, account_id, chat_id, contact_id, name, email, phone, intent, summary,
                        created_at, status, notes, source, updated_at)
SELECT id, account_id, chat_id, contact_id, name, lower(trim(email)),
       replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', ''),
       intent, summary, created_at, status, notes, source, updated_at
FROM leads;
DROP TABLE leads;
ALTER TABLE leads_next RENAME TO leads;
CREATE INDEX leads_account_idx ON leads (account_id, id);
CREATE INDEX leads_email_idx ON leads (account_id, email);
CREATE INDEX leads_phone_idx ON leads (account_id, phone);
CREATE INDEX leads_import_idx ON leads (import_id);
CREATE INDEX leads_analysis_due_idx ON leads (analysis_due_at);
CREATE INDEX leads_next_action_idx ON leads (account_id, needs_action, next_action_at);

CREATE TABLE lead_imports (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    account_id BIGINT NOT NULL REFERENCES accounts(id) ON DELETE CASCADE,
    created_by BIGINT,
    format TEXT NOT NULL,
    header TEXT,
    chunks INTEGER,
    next_chunk INTEGER NOT NULL DEFAULT 0,
    total_rows INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    lease_until TIMESTAMP,
    created_at TIMESTAMP NOT NULL,
    stored_at TIMESTAMP
);
CREATE INDEX lead_imports_account_idx ON lead_imports (account_id, id);

CREATE TABLE lead_import_chunks (
    import_id BIGINT NOT NULL REFERENCES lead_imports(id) ON DELETE CASCADE,
    seq INTEGER NOT NULL,
    first_line BIGINT NOT NULL,
    body TEXT NOT NULL,
    PRIMARY KEY (import_id, seq)
);

CREATE TABLE lead_import_rejections (
    import_id BIGINT NOT NULL REFERENCES lead_imports(id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);
