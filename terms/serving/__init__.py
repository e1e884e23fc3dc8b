"""Serving reads fast and safely: front cache, read model, version stamp,
throttle, the derived process and the production supervisor."""
