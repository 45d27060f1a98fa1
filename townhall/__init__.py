"""townhall: self-hosted comments and discussion for news publishers."""

__version__ = "0.1.0"
