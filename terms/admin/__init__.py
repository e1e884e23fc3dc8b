"""The admin: terms and their workflow, term requests and webhook subscriptions."""

from terms.admin import requests, terms, webhooks  # noqa: F401  (registers them)
