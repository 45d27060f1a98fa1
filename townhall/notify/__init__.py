"""Notifications: mail to readers about replies, delivered from an outbox that survives
restarts and retries until the mail server takes the message."""
