-- Verified addresses and one-time tokens for password-reset and verification links (issue #37).
-- An account's address is verified once a link mailed to it is used; accounts from before are
-- unverified until they ask for a link (POST /api/auth/verify-email).
ALTER TABLE users ADD COLUMN IF NOT EXISTS email_verified_at DATETIME(3) NULL;

-- A link's token is never stored: only its SHA-256 (hex). A token works once (used_at) and
-- until expires_at (30 minutes to reset a password, 48 hours to verify an address); spent ones
-- are purged a day after they expire. They go with their account.
CREATE TABLE IF NOT EXISTS account_tokens (
  id         BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  user_id    BIGINT UNSIGNED NOT NULL,
  purpose    ENUM('reset', 'verify') NOT NULL,
  token_hash CHAR(64) CHARACTER SET ascii COLLATE ascii_bin NOT NULL,
  expires_at DATETIME(3) NOT NULL,
  used_at    DATETIME(3) NULL,
  created_at DATETIME(3) NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_account_tokens_hash (token_hash),
  KEY idx_account_tokens_user (user_id, purpose, created_at),
  KEY idx_account_tokens_expires (expires_at),
  CONSTRAINT fk_account_tokens_user FOREIGN KEY (user_id) REFERENCES users (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
