-- This database's own identity: the Redis channel its hub processes relay through, random per
-- installation, so installations sharing one Redis never hear each other.
CREATE TABLE installation (
    id BIGINT PRIMARY KEY NOT NULL,
    relay_channel VARCHAR(64) NOT NULL
);
INSERT INTO installation (id, relay_channel)
VALUES (1, CONCAT('switchboard:relay:', MD5(CONCAT(RAND(), UUID(), NOW(6)))));
