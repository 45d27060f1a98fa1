"""The web layer: routes, request parsing, CORS, caching headers, errors to HTTP. No SQL."""
