ALTER TABLE channels DROP COLUMN widget_settings;
