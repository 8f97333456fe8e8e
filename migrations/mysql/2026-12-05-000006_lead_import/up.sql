-- Leads from imports as well as chats: one table (a lead need not have a chat), deduplicated
-- per account by email or phone, with what the AI made of each; imports arrive in chunks of
-- rows that are stored one chunk at a time, so a restart continues where it stopped.
ALTER TABLE leads
    MODIFY chat_id BIGINT NULL,
    MODIFY contact_id BIGINT NULL,
    ADD COLUMN company VARCHAR(255),
    ADD COLUMN channel VARCHAR(64),
    ADD COLUMN last_contact_at DATETIME(6),
    ADD COLUMN extra TEXT,
    ADD COLUMN import_id BIGINT,
    ADD COLUMN needs_action BOOLEAN,
    ADD COLUMN next_action_at DATETIME(6),
    ADD COLUMN next_action_description TEXT,
    ADD COLUMN analysis_state VARCHAR(16),
    ADD COLUMN analysis_error TEXT,
    ADD COLUMN analysis_attempts INTEGER NOT NULL DEFAULT 0,
    ADD COLUMN analysis_due_at DATETIME(6),
    ADD COLUMN analysed_at DATETIME(6);
UPDATE leads SET email = lower(trim(email)),
    phone = replace(replace(replace(replace(replace(phone, ' ', ''), '-', ''), '(', ''), ')', ''), '.', '');
CREATE INDEX leads_email_idx ON leads (account_id, email);
CREATE INDEX leads_phone_idx ON leads (account_id, phone);
CREATE INDEX leads_import_idx ON leads (import_id);
CREATE INDEX leads_analysis_due_idx ON leads (analysis_due_at);
CREATE INDEX leads_next_action_idx ON leads (account_id, needs_action, next_action_at);

CREATE TABLE lead_imports (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    created_by BIGINT,
    format VARCHAR(16) NOT NULL,
    header TEXT,
    chunks INTEGER,
    next_chunk INTEGER NOT NULL DEFAULT 0,
    total_rows INTEGER NOT NULL DEFAULT 0,
    imported INTEGER NOT NULL DEFAULT 0,
    updated INTEGER NOT NULL DEFAULT 0,
    rejected INTEGER NOT NULL DEFAULT 0,
    lease_until DATETIME(6),
    created_at DATETIME(6) NOT NULL,
    stored_at DATETIME(6),
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE INDEX lead_imports_account_idx ON lead_imports (account_id, id);

CREATE TABLE lead_import_chunks (
    import_id BIGINT NOT NULL,
    seq INTEGER NOT NULL,
    first_line BIGINT NOT NULL,
    body MEDIUMTEXT NOT NULL,
    PRIMARY KEY (import_id, seq),
    FOREIGN KEY (import_id) REFERENCES lead_imports(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;

CREATE TABLE lead_import_rejections (
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    reason TEXT NOT NULL,
    PRIMARY KEY (import_id, line),
    FOREIGN KEY (import_id) REFERENCES lead_imports(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
