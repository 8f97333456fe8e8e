-- Nothing to change here: this backend indexes messages for search in the table itself;
-- the change of this name moves SQLite's full-text indexing of new messages into the writer.
SELECT 1;
