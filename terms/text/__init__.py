"""Text matching: search, annotate, inflection and similar terms."""
