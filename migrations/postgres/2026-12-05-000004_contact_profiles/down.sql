DROP INDEX contacts_profile_due_idx;
ALTER TABLE contacts DROP COLUMN profile_error;
ALTER TABLE contacts DROP COLUMN profile_due_at;
ALTER TABLE contacts DROP COLUMN profile_attempts;
ALTER TABLE contacts DROP COLUMN profile_fetched_at;
ALTER TABLE contacts DROP COLUMN name_edited;
ALTER TABLE contacts DROP COLUMN notes;
ALTER TABLE contacts DROP COLUMN picture_url;
