-- Label names are unique in an account whatever their case ("VIP" and "vip" are one label).
-- Names that clash already keep the oldest; the others get their id appended.
UPDATE labels SET name = substr(name, 1, 50) || ' (' || id || ')'
WHERE EXISTS (SELECT 1 FROM labels earlier WHERE earlier.account_id = labels.account_id
              AND lower(earlier.name) = lower(labels.name) AND earlier.id < labels.id);
CREATE UNIQUE INDEX labels_name_ci_key ON labels (account_id, lower(name));
