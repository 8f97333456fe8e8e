ALTER TABLE accounts DROP COLUMN language;
ALTER TABLE accounts DROP COLUMN time_zone;
ALTER TABLE accounts DROP COLUMN status;
