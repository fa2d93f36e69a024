-- "Log out everywhere" and a password change end every token issued before them: tokens
-- carry the generation they were issued in ("gen"), and the guard compares it with this
-- column, so no per-token table is scanned.
ALTER TABLE users ADD COLUMN IF NOT EXISTS token_generation INT UNSIGNED NOT NULL DEFAULT 0;
