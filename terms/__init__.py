"""The glossary app: terms, their documents, import/export and what builds on them."""
