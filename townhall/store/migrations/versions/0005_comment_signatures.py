"""store a MinHash band signature with each comment for the flood check

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27

Existing comments keep NULL: the flood check compares those by their text, as before, and
its window is minutes long.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN on both databases: no table rebuild, however many comments there are.
    op.add_column("comments", sa.Column("signature", sa.LargeBinary(), nullable=True))
    # The thread-and-time index carries the signature, so the flood check reads the index only.
    op.drop_index("ix_comments_thread_created", table_name="comments")
    op.create_index(
        "ix_comments_thread_created", "comments", ["thread_id", "created_at", "signature"]
    )


def downgrade() -> None:
    op.drop_index("ix_comments_thread_created", table_name="comments")
    op.create_index("ix_comments_thread_created", "comments", ["thread_id", "created_at"])
    with op.batch_alter_table("comments") as batch:
        batch.drop_column("signature")
