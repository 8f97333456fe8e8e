DROP INDEX labels_name_ci_key ON labels;
ALTER TABLE labels DROP COLUMN name_folded;
