"""The term document: its declaration, validation, YAML, names, rows and links.

Nothing here knows about HTTP, caches or other services: it is what a term *is*.
"""
