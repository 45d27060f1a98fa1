"""mark comments that have replies and index each thread's listed comments only

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-27

A thread's listing used to read every comment the thread ever had, deleted and rejected ones
included, to leave out those without replies: a thread under a spam wave cost more to list
with every comment removed. Now ``has_replies`` is stored (set here from the existing
replies) and a partial index holds only what a listing can show.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

# As in store/schema.py (LISTED), written out: a migration keeps the text it was written with.
_LISTED = "status NOT IN ('deleted', 'removed', 'rejected') OR has_replies"


def upgrade() -> None:
    op.add_column(
        "comments",
        sa.Column("has_replies", sa.Boolean(), nullable=False, server_default=sa.false()),
    )
    op.execute(
        "UPDATE comments SET has_replies = TRUE"
        " WHERE id IN (SELECT parent_id FROM comments WHERE parent_id IS NOT NULL)"
    )
    where = sa.text(_LISTED)
    op.create_index(
        "ix_comments_thread_listed",
        "comments",
        ["thread_id", "created_at"],
        sqlite_where=where,
        postgresql_where=where,
    )


def downgrade() -> None:
    op.drop_index("ix_comments_thread_listed", table_name="comments")
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("has_replies")
