"""WSGI entry point: the Django application behind the front cache.

``terms.frontcache.FrontCache`` answers anonymous API reads it has already
rendered (while the glossary's stamp in Redis says they are current) before
Django runs; everything else goes to Django unchanged.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glossary.settings")
django_application = get_wsgi_application()

from terms import inflection  # noqa: E402  (needs Django set up)
from terms.frontcache import FrontCache  # noqa: E402

# A server loads the inflection lexicon as it starts, not on its first annotate.
inflection.warm()
application = FrontCache(django_application)
