-- An import whose rows cannot be stored for a lasting reason ends `failed`, with that reason.
ALTER TABLE lead_imports ADD COLUMN failure TEXT;
