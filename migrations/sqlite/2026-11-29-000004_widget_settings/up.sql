-- A widget channel's look and pre-chat form, as JSON text.
ALTER TABLE channels ADD COLUMN widget_settings TEXT;
