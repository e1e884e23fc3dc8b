"""App configuration."""

from django.apps import AppConfig


class TermsConfig(AppConfig):
    """The glossary terms app."""

    name = "terms"
    verbose_name = "Glossary"
    default_auto_field = "django.db.models.BigAutoField"
