-- The language a visitor's browser reads in (a tag such as `de-AT`), so what the hub itself
-- says to them (the handoff message) can be in their language.
ALTER TABLE widget_sessions ADD COLUMN language TEXT;
CREATE INDEX widget_sessions_contact_idx ON widget_sessions (contact_id);
