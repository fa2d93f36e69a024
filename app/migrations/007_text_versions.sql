-- Every change to a text bumps its version: GET answers it as the ETag, and a PUT or DELETE
-- with a stale If-Match is refused (412) instead of overwriting someone else's edit.
ALTER TABLE texts ADD COLUMN IF NOT EXISTS version INT UNSIGNED NOT NULL DEFAULT 1;
