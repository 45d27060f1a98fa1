"""Moderation: a pipeline of checks that turns a submission into a decision, run locally."""
