ALTER TABLE lead_imports DROP COLUMN failure;
