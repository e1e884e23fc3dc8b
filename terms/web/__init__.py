"""Human-readable pages: the reader's pages, the dashboard and term requests."""
