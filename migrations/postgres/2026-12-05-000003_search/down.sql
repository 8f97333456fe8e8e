DROP INDEX contacts_search_idx;
DROP INDEX messages_text_search_idx;
