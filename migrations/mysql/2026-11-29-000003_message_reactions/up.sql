-- Reactions on a message, as JSON text: [{"emoji": "...", "by": "contact"}].
ALTER TABLE messages ADD COLUMN reactions TEXT;
