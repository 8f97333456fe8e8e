-- Leads from imports as well as chats: one table (a lead need not have a chat), deduplicated
-- per account by email or phone, with what the AI made of each; imports arrive in chunks of
-- rows that are stored one chunk at a time, so a restart continues where it stopped.
ALTER TABLE leads ALTER COLUMN chat_id DROP NOT NULL;
ALTER TABLE leads ALTER COLUMN contact_id DROP NOT NULL;
ALTER TABLE leads
    ADD COLUMN company TEXT,
    ADD COLUMN channel TEXT,
    ADD COLUMN last_contact_at TIMESTAMP,
    ADD COLUMN extra TEXT,
    ADD COLUMN import_id BIGINT,
    ADD COLUMN needs_action BOOLEAN,
    ADD COLUMN next_action_at TIMESTAMP,
    ADD COLUMN next_action_description TEXT,
    ADD COLUMN analysis_state TEXT,
    ADD COLUMN analysis_error TEXT,
    ADD COLUMN analysis_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN analysis_due_at TIMESTAMP,
    ADD COLUMN analysed_at TIMESTAMP;
UPDATE leads SET email = lower(trim(email)),
    phone = replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', '');
CREATE INDEX leads_email_idx ON leads (account_id, email);
CREATE INDEX leads_phone_idx ON leads (account_id, phone);
CREATE INDEX leads_import_idx ON leads (import_id);
CREATE INDEX leads_analysis_due_idx ON leads (analysis_due_at);
CREATE INDEX leads_next_action_idx ON leads (account_id, needs_action, next_action_at);

CREATE TABLE lead_imports (
    id BIGSERIAL PRIMARY KEY,
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
