DROP INDEX contacts_profile_due_idx ON contacts;
ALTER TABLE contacts
    DROP COLUMN profile_error,
    DROP COLUMN profile_due_at,
    DROP COLUMN profile_attempts,
    DROP COLUMN profile_fetched_at,
    DROP COLUMN name_edited,
    DROP COLUMN notes,
    DROP COLUMN picture_url;
