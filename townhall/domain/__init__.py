"""The domain: sites, threads, comments, identity and the write paths. No HTTP, no SQL text."""
