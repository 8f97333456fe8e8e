-- Full-text search over messages and contacts: InnoDB FULLTEXT indexes. The searched columns
-- compare without regard to case (FULLTEXT follows the column's collation).
ALTER TABLE messages MODIFY text MEDIUMTEXT CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
ALTER TABLE contacts
    MODIFY name VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    MODIFY email VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci,
    MODIFY phone VARCHAR(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;
CREATE FULLTEXT INDEX messages_text_search_idx ON messages (text);
CREATE FULLTEXT INDEX contacts_search_idx ON contacts (name, email, phone);
