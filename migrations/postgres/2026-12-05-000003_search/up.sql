-- Full-text search over messages and contacts: GIN indexes on the same tsvector expressions
-- the search queries use ('simple': no language's stemming, customers write in many).
CREATE INDEX messages_text_search_idx ON messages
    USING GIN (to_tsvector('simple', coalesce(text, '')));
CREATE INDEX contacts_search_idx ON contacts
    USING GIN (to_tsvector('simple', coalesce(name, '') || ' ' || coalesce(email, '') || ' ' || coalesce(phone, '')));
