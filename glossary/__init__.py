"""Django project package of the glossary knowledge base."""
