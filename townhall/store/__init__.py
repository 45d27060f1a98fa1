"""Storage: schema, migrations and queries over SQLite and PostgreSQL (SQLAlchemy Core)."""
