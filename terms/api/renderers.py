"""Renderers beside DRF's JSON: YAML, Markdown, zip."""

import json

from rest_framework import renderers

from terms.documents.document import dump_yaml


class TermYAMLRenderer(renderers.BaseRenderer):
    """The term document as YAML, exactly as ``export_terms`` writes it."""

    media_type = "application/yaml"
    format = "yaml"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Text as it is; anything else (an error body) as YAML."""
        text = data if isinstance(data, str) else dump_yaml(data)
        return text.encode("utf-8")


class TermMarkdownRenderer(renderers.BaseRenderer):
    """The term as the reference project's documentation page."""

    media_type = "text/markdown"
    format = "md"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Text as it is; anything else (an error body) as JSON."""
        if isinstance(data, str):
            return data.encode("utf-8")
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


class ZipRenderer(renderers.BaseRenderer):
    """A zip archive of YAML files (``GET /api/v1/export/?format=yaml``)."""

    media_type = "application/zip"
    format = "yaml"
    charset = None
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Bytes as they are; anything else (an error body) as YAML."""
        if isinstance(data, bytes):
            return data
        return dump_yaml(data).encode("utf-8")


class RDFRenderer(renderers.BaseRenderer):
    """SKOS as bytes already serialised (``terms.formats.skos``); errors as JSON."""

    charset = "utf-8"
    render_style = "binary"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        """Bytes as they are; anything else (an error body) as JSON."""
        if isinstance(data, bytes):
            return data
        return json.dumps(data, ensure_ascii=False).encode("utf-8")


class TurtleRenderer(RDFRenderer):
    """SKOS in Turtle."""

    media_type = "text/turtle"
    format = "ttl"


class RDFXMLRenderer(RDFRenderer):
    """SKOS in RDF/XML."""

    media_type = "application/rdf+xml"
    format = "rdf"


class JSONLDRenderer(RDFRenderer):
    """SKOS in JSON-LD."""

    media_type = "application/ld+json"
    format = "jsonld"


class CSVRenderer(RDFRenderer):
    """The glossary as CSV in OpenMetadata's glossary layout
    (``terms.formats.csvfile``)."""

    media_type = "text/csv"
    format = "csv"


#: The SKOS renderers, for views that offer them.
SKOS_RENDERERS = [TurtleRenderer, RDFXMLRenderer, JSONLDRenderer]
