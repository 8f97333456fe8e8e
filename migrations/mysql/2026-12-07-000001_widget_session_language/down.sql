ALTER TABLE widget_sessions DROP COLUMN language;
