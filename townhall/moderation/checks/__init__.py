"""townhall's built-in checks. Importing a module registers its checks, in this order."""

from townhall.moderation.checks import access, rates  # noqa: F401
