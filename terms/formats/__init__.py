"""Files in and out: YAML, CSV and SKOS (Turtle, RDF/XML, JSON-LD), one registry."""
