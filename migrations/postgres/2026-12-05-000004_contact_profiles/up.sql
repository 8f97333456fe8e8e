-- Contact profiles: the picture and name Meta gives for a Messenger or Instagram customer
-- (looked up when due: first contact, then daily, sooner again after a failure), and what
-- agents write down; a name an agent set is never overwritten by a lookup.
ALTER TABLE contacts ADD COLUMN picture_url TEXT;
ALTER TABLE contacts ADD COLUMN notes TEXT;
ALTER TABLE contacts ADD COLUMN name_edited BOOLEAN NOT NULL DEFAULT FALSE;
ALTER TABLE contacts ADD COLUMN profile_fetched_at TIMESTAMP;
ALTER TABLE contacts ADD COLUMN profile_attempts INTEGER NOT NULL DEFAULT 0;
ALTER TABLE contacts ADD COLUMN profile_due_at TIMESTAMP;
ALTER TABLE contacts ADD COLUMN profile_error TEXT;
CREATE INDEX contacts_profile_due_idx ON contacts (profile_due_at);
