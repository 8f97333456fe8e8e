ALTER TABLE leads
    DROP COLUMN updated_at,
    DROP COLUMN source,
    DROP COLUMN notes,
    DROP COLUMN status;
