-- The language a visitor's browser reads in (a tag such as `de-AT`), so what the hub itself
-- says to them (the handoff message) can be in their language. (MySQL already indexes
-- contact_id for its foreign key, so no index of ours is added here.)
ALTER TABLE widget_sessions ADD COLUMN language VARCHAR(35);
