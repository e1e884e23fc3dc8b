"""WSGI entry point: the Django application behind the front cache, and the
MCP server at ``/mcp``.

``terms.serving.frontcache.FrontCache`` answers anonymous API reads it has already
rendered (while the glossary's stamp in Redis says they are current) before
Django runs; behind it ``terms.serving.readmodel.ReadModelApp`` answers anonymous
term details from the details stored in the database; ``/mcp`` goes to the MCP
server's HTTP transport (``terms.integrations.mcp_http``); everything else goes to
Django
unchanged.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "glossary.settings")
django_application = get_wsgi_application()

from terms.integrations.mcp_http import PATH as MCP_PATH  # noqa: E402
from terms.integrations.mcp_http import mcp_wsgi_application  # noqa: E402
from terms.serving import usage  # noqa: E402
from terms.serving.frontcache import FrontCache  # noqa: E402
from terms.serving.readmodel import ReadModelApp  # noqa: E402
from terms.text import inflection  # noqa: E402  (needs Django set up)

# A server loads the inflection lexicon as it starts, not on its first annotate.
inflection.warm()
# And starts writing its usage counts, so `manage.py usage flush` reaches it.
usage.start()
glossary_application = FrontCache(ReadModelApp(django_application))
_mcp = None


def application(environ, start_response):
    """``/mcp`` to the MCP transport (built on first use), the rest to Django."""
    global _mcp
    path = environ.get("PATH_INFO", "")
    if path == MCP_PATH or path.startswith(MCP_PATH + "/"):
        if _mcp is None:
            _mcp = mcp_wsgi_application()
        return _mcp(environ, start_response)
    return glossary_application(environ, start_response)
