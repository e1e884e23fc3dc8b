"""The glossary app: terms, their documents, import/export and everything built on them."""
