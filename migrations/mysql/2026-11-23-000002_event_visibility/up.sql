-- Who may see an event: the chat's assignee when it was committed, and for
-- chat.assigned the previous one, so a resumed stream is filtered like the live one.
ALTER TABLE events ADD COLUMN assignee_id BIGINT;
ALTER TABLE events ADD COLUMN previous_assignee_id BIGINT;
