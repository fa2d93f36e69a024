-- Summaries the AI service made, per text version and length: asking again for the same
-- version is answered from here. Saving one deletes those of the text's older versions, and a
-- text's summaries go with it.
CREATE TABLE IF NOT EXISTS text_ai_summaries (
  text_id    BIGINT UNSIGNED  NOT NULL,
  version    INT UNSIGNED     NOT NULL,
  sentences  TINYINT UNSIGNED NOT NULL,
  summary    MEDIUMTEXT       NOT NULL,  -- a JSON array of the sentences, in order
  created_at DATETIME(3)      NOT NULL DEFAULT CURRENT_TIMESTAMP(3),
  PRIMARY KEY (text_id, version, sentences),
  CONSTRAINT fk_text_ai_summaries_text FOREIGN KEY (text_id) REFERENCES texts (id) ON DELETE CASCADE
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_unicode_ci;
