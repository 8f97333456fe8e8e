-- An account's lifecycle and settings: `status` is `active`, `suspended` (its people cannot
-- sign in, nothing is sent, the AI is off; inbound is still stored) or `pending` (created by
-- a sign-up whose email address is not confirmed yet); the time zone (IANA name) and the
-- language (`en`, `de`) its people and customers are served in.
ALTER TABLE accounts ADD COLUMN status TEXT NOT NULL DEFAULT 'active';
ALTER TABLE accounts ADD COLUMN time_zone TEXT NOT NULL DEFAULT 'UTC';
ALTER TABLE accounts ADD COLUMN language TEXT NOT NULL DEFAULT 'en';
