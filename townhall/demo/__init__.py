"""The demo of ``townhall serve --demo``: a site, an article and a heated discussion."""
