DROP INDEX widget_sessions_contact_idx ON widget_sessions;
ALTER TABLE widget_sessions DROP COLUMN language;
