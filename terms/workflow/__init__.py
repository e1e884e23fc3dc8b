"""Writes: workflow steps as data, the write functions, history, bulk writes,
imports and term requests. Each committed change is announced (``terms.events``);
what serves or integrates the glossary listens instead of being called from here.
"""
