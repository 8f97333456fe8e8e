-- Full-text search over messages and contacts: FTS5 tables kept in step with their rows by
-- triggers, filled once here with what is stored already.
CREATE VIRTUAL TABLE messages_fts USING fts5(text, content='messages', content_rowid='id');
CREATE TRIGGER messages_fts_insert AFTER INSERT ON messages BEGIN
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
END;
CREATE TRIGGER messages_fts_delete AFTER DELETE ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
END;
CREATE TRIGGER messages_fts_update AFTER UPDATE OF text ON messages BEGIN
    INSERT INTO messages_fts(messages_fts, rowid, text) VALUES ('delete', old.id, old.text);
    INSERT INTO messages_fts(rowid, text) VALUES (new.id, new.text);
END;
INSERT INTO messages_fts(messages_fts) VALUES ('rebuild');

CREATE VIRTUAL TABLE contacts_fts USING fts5(name, email, phone, content='contacts', content_rowid='id');
CREATE TRIGGER contacts_fts_insert AFTER INSERT ON contacts BEGIN
    INSERT INTO contacts_fts(rowid, name, email, phone) VALUES (new.id, new.name, new.email, new.phone);
END;
CREATE TRIGGER contacts_fts_delete AFTER DELETE ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, name, email, phone)
    VALUES ('delete', old.id, old.name, old.email, old.phone);
END;
CREATE TRIGGER contacts_fts_update AFTER UPDATE OF name, email, phone ON contacts BEGIN
    INSERT INTO contacts_fts(contacts_fts, rowid, name, email, phone)
    VALUES ('delete', old.id, old.name, old.email, old.phone);
    INSERT INTO contacts_fts(rowid, name, email, phone) VALUES (new.id, new.name, new.email, new.phone);
END;
INSERT INTO contacts_fts(contacts_fts) VALUES ('rebuild');
