-- New messages enter the full-text index from the store's writer, one statement per group
-- (`store::messages::index_for_search`), not from a trigger per row: a trigger makes every
-- insert a statement SQLite must be able to undo halfway, so it copied each page the insert
-- touched into a statement journal first. Edits and deletions still go through triggers.
DROP TRIGGER messages_fts_insert;
