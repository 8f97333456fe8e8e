-- Label names are unique in an account whatever their case ("VIP" and "vip" are one label):
-- a stored lower-cased copy carries the unique key (MySQL and MariaDB alike).
-- Names that clash already keep the oldest; the others get their id appended.
UPDATE labels l JOIN labels earlier
    ON earlier.account_id = l.account_id AND LOWER(earlier.name) = LOWER(l.name) AND earlier.id < l.id
SET l.name = CONCAT(LEFT(l.name, 40), ' (', l.id, ')');
ALTER TABLE labels ADD COLUMN name_folded VARCHAR(64) AS (LOWER(name)) STORED;
CREATE UNIQUE INDEX labels_name_ci_key ON labels (account_id, name_folded);
