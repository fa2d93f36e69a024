-- An API key ends with the account's tokens: it records the token generation it was made in,
-- and "log out everywhere" or a password change (which raise the account's generation) end it.
-- Every key expires (90 days unless asked otherwise, at most 365): keys from before get 90 days
-- from now, and none keeps more than 365.
ALTER TABLE api_keys ADD COLUMN IF NOT EXISTS token_generation INT UNSIGNED NOT NULL DEFAULT 0;
UPDATE api_keys k JOIN users u ON u.id = k.user_id
   SET k.token_generation = u.token_generation,
       k.expires_at = LEAST(COALESCE(k.expires_at, UTC_TIMESTAMP(3) + INTERVAL 90 DAY), UTC_TIMESTAMP(3) + INTERVAL 365 DAY);
ALTER TABLE api_keys MODIFY expires_at DATETIME(3) NOT NULL;
