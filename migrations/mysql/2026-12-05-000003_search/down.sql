DROP INDEX contacts_search_idx ON contacts;
DROP INDEX messages_text_search_idx ON messages;
ALTER TABLE contacts
    MODIFY name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY email VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin,
    MODIFY phone VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
ALTER TABLE messages MODIFY text MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_bin;
