-- Leads as a team works them: where each stands, what the team noted, where it came from.
ALTER TABLE leads ADD COLUMN status TEXT NOT NULL DEFAULT 'new';
ALTER TABLE leads ADD COLUMN notes TEXT;
ALTER TABLE leads ADD COLUMN source TEXT NOT NULL DEFAULT 'chat';
ALTER TABLE leads ADD COLUMN updated_at TIMESTAMP;
