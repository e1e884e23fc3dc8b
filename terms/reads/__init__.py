"""Reads of the glossary: who sees what, querysets, facets, the reader's languages."""
