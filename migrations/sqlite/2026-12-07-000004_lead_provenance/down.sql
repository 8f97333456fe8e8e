DROP TABLE lead_import_merges;
ALTER TABLE lead_imports DROP COLUMN analysis_skipped;
ALTER TABLE lead_imports DROP COLUMN status_words;
ALTER TABLE lead_imports DROP COLUMN status_map;
ALTER TABLE leads DROP COLUMN source_status;
ALTER TABLE leads DROP COLUMN status_reason;
ALTER TABLE leads DROP COLUMN ai_fields;
