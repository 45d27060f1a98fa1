"""Seed Isso's SQLite database with the benchmark's threads and comments.

Runs with the Python of Isso's own virtual environment (it imports isso, never townhall):

    isso-venv/bin/python isso_seed.py isso.cfg dataset.json

Isso creates its schema exactly as when it starts (``isso.db.SQLite3``), then the rows go in
with one ``executemany`` per table; each comment's ``voters`` Bloom filter holds its author's
(anonymised) address, as ``Comments.add`` stores it.
"""

from __future__ import annotations

import json
import sqlite3
import sys


def main(config_path: str, data_path: str) -> None:
    from isso import config
    from isso.db import SQLite3
    from isso.utils import Bloomfilter

    conf = config.load(config.default_file(), config_path)
    dbpath = conf.get("general", "dbpath")
    SQLite3(dbpath, conf)  # creates the tables, triggers and preferences as isso does
    with open(data_path, encoding="utf-8") as f:
        data = json.load(f)
    con = sqlite3.connect(dbpath)
    with con:
        con.executemany(
            "INSERT INTO threads (id, uri, title) VALUES (?, ?, ?)",
            [(t["id"], t["uri"], t["title"]) for t in data["threads"]],
        )
        con.executemany(
            "INSERT INTO comments (tid, id, parent, created, modified, mode, remote_addr, text,"
            " author, email, website, likes, dislikes, voters, notification)"
            " VALUES (?, ?, ?, ?, NULL, 1, ?, ?, ?, ?, ?, ?, ?, ?, 0)",
            [
                (
                    c["tid"],
                    c["id"],
                    c["parent"],
                    c["created"],
                    c["remote_addr"],
                    c["text"],
                    c["author"],
                    c["email"],
                    c["website"],
                    c["likes"],
                    c["dislikes"],
                    memoryview(Bloomfilter(iterable=[c["remote_addr"]]).array),
                )
                for c in data["comments"]
            ],
        )
    count = con.execute("SELECT COUNT(*) FROM comments").fetchone()[0]
    con.close()
    print(f"isso database {dbpath}: {count} comments", flush=True)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
