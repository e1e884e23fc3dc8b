"""Glossary terms linked in MkDocs sites (``mkdocs_glossary.plugin``)."""
