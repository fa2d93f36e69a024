"""spur's AI service: extractive summaries (TextRank) and keywords (TF-IDF) over HTTP."""
