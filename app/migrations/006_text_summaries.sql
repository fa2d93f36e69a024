-- The list answers summaries: size and excerpt are kept beside the content so that listing
-- (and the per-user quota) never reads a content column.
ALTER TABLE texts
  ADD COLUMN IF NOT EXISTS size    INT UNSIGNED NOT NULL DEFAULT 0,
  ADD COLUMN IF NOT EXISTS excerpt VARCHAR(200) NOT NULL DEFAULT '';
UPDATE texts SET size = OCTET_LENGTH(content), excerpt = LEFT(content, 200);
