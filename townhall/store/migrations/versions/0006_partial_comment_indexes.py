"""index comments by root, parent, email hash, address hash and import source only where set

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27

Every lookup through these indexes asks for a value, never for NULL; a new top-level comment
without an email or an import source no longer writes four index entries that nothing reads.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_INDEXES = {
    "ix_comments_root": (["root_id"], "root_id"),
    "ix_comments_email_hash": (["email_hash"], "email_hash"),
    "ix_comments_ip_hash": (["ip_hash"], "ip_hash"),
    "ix_comments_source": (["thread_id", "source_id"], "source_id"),
    "ix_comments_parent": (["parent_id"], "parent_id"),
}


def upgrade() -> None:
    for name, (columns, column) in _INDEXES.items():
        where = sa.text(f"{column} IS NOT NULL")
        op.drop_index(name, table_name="comments")
        op.create_index(name, "comments", columns, sqlite_where=where, postgresql_where=where)


def downgrade() -> None:
    for name, (columns, _) in _INDEXES.items():
        op.drop_index(name, table_name="comments")
        op.create_index(name, "comments", columns)
