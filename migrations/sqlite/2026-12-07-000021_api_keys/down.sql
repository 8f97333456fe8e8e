ALTER TABLE outgoing_webhooks DROP COLUMN channel_id;
ALTER TABLE channels DROP COLUMN api_key_hash;
DROP TABLE api_keys;
