-- Canned responses: an account's ready answers, found in the composer by their shortcut.
CREATE TABLE canned_responses (
    id BIGINT AUTO_INCREMENT PRIMARY KEY,
    account_id BIGINT NOT NULL,
    shortcut VARCHAR(64) NOT NULL,
    text TEXT NOT NULL,
    created_by BIGINT,
    created_at DATETIME(6) NOT NULL,
    updated_at DATETIME(6) NOT NULL,
    FOREIGN KEY (account_id) REFERENCES accounts(id) ON DELETE CASCADE,
    FOREIGN KEY (created_by) REFERENCES users(id) ON DELETE SET NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin;
CREATE UNIQUE INDEX canned_responses_shortcut_key ON canned_responses (account_id, shortcut);
