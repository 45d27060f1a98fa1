"""After a crash: is the database sound, and do its counters agree with its rows?"""

from __future__ import annotations

from sqlalchemy import create_engine, text

from security.servers import Target

# Every counter townhall keeps next to the rows it counts (the write paths update both in one
# transaction, so a crash must never leave them apart).
CONSISTENCY_QUERIES = {
    "threads.comment_count == published comments": """
        SELECT t.id, t.comment_count, COUNT(c.id) AS n FROM threads t
        LEFT JOIN comments c ON c.thread_id = t.id AND c.status = 'published'
        GROUP BY t.id, t.comment_count HAVING t.comment_count <> COUNT(c.id)""",
    "comments.likes == votes of +1": """
        SELECT c.id, c.likes FROM comments c
        WHERE c.likes <> (SELECT COUNT(*) FROM votes v WHERE v.comment_id = c.id AND v.value > 0)
    """,
    "comments.dislikes == votes of -1": """
        SELECT c.id, c.dislikes FROM comments c
        WHERE c.dislikes <> (SELECT COUNT(*) FROM votes v
                             WHERE v.comment_id = c.id AND v.value < 0)""",
    "comments.flag_count == flags": """
        SELECT c.id, c.flag_count FROM comments c
        WHERE c.flag_count <> (SELECT COUNT(*) FROM flags f WHERE f.comment_id = c.id)""",
    "a reply sits in its parent's thread, one level deeper": """
        SELECT c.id FROM comments c JOIN comments p ON p.id = c.parent_id
        WHERE p.thread_id <> c.thread_id OR c.depth <> p.depth + 1""",
    "a reply names its conversation's root": """
        SELECT c.id FROM comments c WHERE c.parent_id IS NOT NULL AND c.root_id IS NULL""",
    "a held comment has its moderation record": """
        SELECT c.id FROM comments c WHERE c.status = 'pending' AND NOT EXISTS
        (SELECT 1 FROM moderation_log m WHERE m.comment_id = c.id)""",
    "a visible comment has text, HTML and an edit token": """
        SELECT c.id FROM comments c WHERE c.status IN ('published', 'pending')
        AND (c.text = '' OR c.html = '' OR c.edit_token_hash IS NULL)""",
}


def storage_problems(target: Target) -> list[str]:
    """The database engine's own verdict on its files and indexes."""
    problems: list[str] = []
    engine = create_engine(target.url)
    try:
        with engine.connect() as conn:
            if target.kind == "sqlite":
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check")]
                if rows != ["ok"]:
                    problems += [f"integrity_check: {r}" for r in rows]
                problems += [
                    f"foreign_key_check: {tuple(r)}"
                    for r in conn.exec_driver_sql("PRAGMA foreign_key_check")
                ]
            else:
                conn.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS amcheck")
                tables = [
                    r[0]
                    for r in conn.exec_driver_sql(
                        "SELECT c.oid::regclass::text FROM pg_class c JOIN pg_namespace n "
                        "ON n.oid = c.relnamespace WHERE n.nspname = 'public' "
                        "AND c.relkind = 'r'"
                    )
                ]
                for table in tables:
                    for row in conn.execute(
                        text("SELECT * FROM verify_heapam(CAST(:t AS regclass))"), {"t": table}
                    ):
                        problems.append(f"verify_heapam {table}: {tuple(row)}")
                indexes = [
                    r[0]
                    for r in conn.exec_driver_sql(
                        "SELECT c.oid::regclass::text FROM pg_index i "
                        "JOIN pg_class c ON c.oid = i.indexrelid "
                        "JOIN pg_namespace n ON n.oid = c.relnamespace "
                        "JOIN pg_am a ON a.oid = c.relam "
                        "WHERE n.nspname = 'public' AND a.amname = 'btree'"
                    )
                ]
                for index in indexes:
                    conn.execute(
                        text("SELECT bt_index_check(CAST(:i AS regclass), true)"), {"i": index}
                    )
                conn.commit()
    finally:
        engine.dispose()
    return problems


def consistency_problems(target: Target) -> list[str]:
    problems: list[str] = []
    engine = create_engine(target.url)
    try:
        with engine.connect() as conn:
            for name, query in CONSISTENCY_QUERIES.items():
                rows = list(conn.execute(text(query)))
                if rows:
                    problems.append(f"{name}: {len(rows)} rows disagree, e.g. {tuple(rows[0])}")
    finally:
        engine.dispose()
    return problems
