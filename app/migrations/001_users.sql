-- Accounts. Emails are stored lower-cased; the unique key makes concurrent duplicate
-- registrations yield exactly one row.
CREATE TABLE IF NOT EXISTS users (
  id            BIGINT UNSIGNED NOT NULL AUTO_INCREMENT PRIMARY KEY,
  email         VARCHAR(254)    NOT NULL,
  name          VARCHAR(255)    NULL,
  password_hash CHAR(60)        NOT NULL,
  created_at    DATETIME(3)     NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  UNIQUE KEY uq_users_email (email)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;

-- Logged-out tokens, by jti, until they would have expired anyway.
CREATE TABLE IF NOT EXISTS revoked_tokens (
  jti        CHAR(36)    NOT NULL PRIMARY KEY,
  expires_at DATETIME(3) NOT NULL,
  KEY idx_revoked_expires (expires_at)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
