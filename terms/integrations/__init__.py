"""The glossary for other systems: MCP, reconciliation, webhooks, link checks."""
