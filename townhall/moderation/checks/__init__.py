"""townhall's built-in checks. Importing a module registers its checks, and the imports below
set the order they run in: who may post at all, then cheap text rules, then questions about
the past, the model last (a rejection stops the pipeline, so the costly checks run least)."""

# isort: off
from townhall.moderation.checks import access, rates  # noqa: F401
from townhall.moderation.checks import words, links  # noqa: F401
from townhall.moderation.checks import duplicates, first_time  # noqa: F401
from townhall.moderation.checks import toxicity  # noqa: F401

# isort: on
