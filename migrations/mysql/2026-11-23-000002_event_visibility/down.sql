ALTER TABLE events DROP COLUMN previous_assignee_id;
ALTER TABLE events DROP COLUMN assignee_id;
