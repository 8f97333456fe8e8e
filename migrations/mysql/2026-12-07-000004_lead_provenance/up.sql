-- Leads keep what the business knew: which values the AI analysis set (and why it changed a
-- status), the status word a file used when it is not one of ours; imports keep their status
-- mapping, the words they met, why their analysis was skipped, and the rows they merged.
ALTER TABLE leads
    ADD COLUMN ai_fields VARCHAR(255),
    ADD COLUMN status_reason TEXT,
    ADD COLUMN source_status VARCHAR(255);
ALTER TABLE lead_imports
    ADD COLUMN status_map TEXT,
    ADD COLUMN status_words TEXT,
    ADD COLUMN analysis_skipped VARCHAR(255);
CREATE TABLE lead_import_merges (
    import_id BIGINT NOT NULL,
    line BIGINT NOT NULL,
    lead_id BIGINT NOT NULL,
    changes TEXT NOT NULL,
    PRIMARY KEY (import_id, line),
    FOREIGN KEY (import_id) REFERENCES lead_imports(id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
