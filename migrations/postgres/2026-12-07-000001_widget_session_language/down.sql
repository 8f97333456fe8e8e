DROP INDEX widget_sessions_contact_idx;
ALTER TABLE widget_sessions DROP COLUMN language;
