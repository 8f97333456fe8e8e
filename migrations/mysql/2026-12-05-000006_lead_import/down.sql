DROP TABLE lead_import_rejections;
DROP TABLE lead_import_chunks;
DROP TABLE lead_imports;
DROP INDEX leads_next_action_idx ON leads;
DROP INDEX leads_analysis_due_idx ON leads;
DROP INDEX leads_import_idx ON leads;
DROP INDEX leads_phone_idx ON leads;
DROP INDEX leads_email_idx ON leads;
DELETE FROM leads WHERE chat_id IS NULL OR contact_id IS NULL;
ALTER TABLE leads
    DROP COLUMN analysed_at,
    DROP COLUMN analysis_due_at,
    DROP COLUMN analysis_attempts,
    DROP COLUMN analysis_error,
    DROP COLUMN analysis_state,
    DROP COLUMN next_action_description,
    DROP COLUMN next_action_at,
    DROP COLUMN needs_action,
    DROP COLUMN import_id,
    DROP COLUMN extra,
    DROP COLUMN last_contact_at,
    DROP COLUMN channel,
    DROP COLUMN company,
    MODIFY chat_id BIGINT NOT NULL,
    MODIFY contact_id BIGINT NOT NULL;
