"""Throttling of anonymous clients."""

from django.conf import settings
from rest_framework.throttling import AnonRateThrottle


class AnonymousRateThrottle(AnonRateThrottle):
    """Anonymous rate from ``GLOSSARY_ANON_THROTTLE_RATE``; empty disables it.

    Read at request time rather than from DRF's class-level settings so the rate
    can be configured (and tested) without reloading the module.
    """

    def get_rate(self):
        return settings.GLOSSARY_ANON_THROTTLE_RATE or None
