-- Leads keep what the business knew: which values the AI analysis set (and why it changed a
-- status), the status word a file used when it is not one of ours; imports keep their status
-- mapping, the words they met, why their analysis was skipped, and the rows they merged.
ALTER TABLE leads
    ADD COLUMN ai_fields TEXT,
    ADD COLUMN status_reason TEXT,
    ADD COLUMN source_status TEXT;
ALTER TABLE lead_imports
    ADD COLUMN status_map TEXT,
    ADD COLUMN status_words TEXT,
    ADD COLUMN analysis_skipped TEXT;
CREATE TABLE lead_import_merges (
    import_id BIGINT NOT NULL REFERENCES lead_imports(id) ON DELETE CASCADE,
    line BIGINT NOT NULL,
    lead_id BIGINT NOT NULL,
    changes TEXT NOT NULL,
    PRIMARY KEY (import_id, line)
);
