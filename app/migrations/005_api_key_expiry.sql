-- An API key may expire (expires_in_days at creation); NULL never expires.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS expires_at DATETIME(3) NULL;
