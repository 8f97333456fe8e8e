DROP INDEX labels_name_ci_key;
