-- Leads as a team works them: where each stands, what the team noted, where it came from.
ALTER TABLE leads
    ADD COLUMN status VARCHAR(32) NOT NULL DEFAULT 'new',
    ADD COLUMN notes TEXT,
    ADD COLUMN source VARCHAR(32) NOT NULL DEFAULT 'chat',
    ADD COLUMN updated_at DATETIME(6);
