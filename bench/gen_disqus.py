"""Write a realistic Disqus export of N comments, streaming to disk (constant memory).

    python bench/gen_disqus.py 100000 /tmp/disqus-100k.xml [--seed 1]

Shape follows real exports (see tests/fixtures/imports/QUIRKS.md): default namespace
``http://disqus.com``, ``dsq:id`` attributes, a category, all threads first and then the posts
(flat, pointing at their thread and parent). About one thread per 20 posts with a skewed size
distribution (the busiest has 0.5% of all posts, the top 2% of threads 30%), replies nested
up to depth 5, ~4% deleted, ~2% spam, a few dev-host threads
(``localhost:4000``), CDATA HTML bodies with links and line breaks, Cyrillic and CJK text.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
from pathlib import Path
from xml.sax.saxutils import escape

WORDS = """the council vote budget school road river market club season match report policy
minister mayor local people think agree really never always because however article thanks
great point wrong right story source data year week today more less why how
Радио новости город 新闻 评论 城市""".split()  # noqa: SIM905 (reads better as prose)
NAMES = ["Ann", "Bob", "Chidi", "Dana", "Émile", "Fatima", "Georg", "Hana", "Ivan", "Jia"]
START = dt.datetime(2012, 1, 1, tzinfo=dt.UTC)


def sentence(rng: random.Random, low: int, high: int) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    return " ".join(words).capitalize() + "."


def message(rng: random.Random) -> str:
    paragraphs = []
    for _ in range(rng.choice((1, 1, 1, 2, 2, 3))):
        text = " ".join(sentence(rng, 4, 18) for _ in range(rng.randint(1, 4)))
        if rng.random() < 0.1:
            text += (
                ' See <a href="https://example.org/doc" rel="nofollow noopener" '
                'title="https://example.org/doc">https://example.org/doc</a>'
            )
        if rng.random() < 0.1:
            text = text.replace(". ", ".<br>", 1)
        paragraphs.append(f"<p>{text}</p>")
    return "".join(paragraphs)


def thread_xml(tid: int, rng: random.Random, created: dt.datetime) -> str:
    host = "localhost:4000" if rng.random() < 0.03 else "news.example"
    slug = f"{created:%Y/%m}/story-{tid}"
    ident = f"<id>story-{tid}</id>" if rng.random() < 0.5 else "<id />"
    title = escape(sentence(rng, 3, 9))
    return (
        f'    <thread dsq:id="{tid}">\n        {ident}\n        <forum>bench</forum>\n'
        f'        <category dsq:id="1" />\n        <link>http://{host}/{slug}/</link>\n'
        f"        <title>{title}</title>\n        <message />\n"
        f"        <createdAt>{created:%Y-%m-%dT%H:%M:%SZ}</createdAt>\n"
        "        <author>\n            <email>desk@news.example</email>\n"
        "            <name>Desk</name>\n            <isAnonymous>false</isAnonymous>\n"
        "            <username>desk</username>\n        </author>\n"
        "        <ipAddress>192.0.2.1</ipAddress>\n"
        f"        <isClosed>{'true' if rng.random() < 0.05 else 'false'}</isClosed>\n"
        "        <isDeleted>false</isDeleted>\n    </thread>\n"
    )


def post_xml(
    pid: int, tid: int, parent: int | None, rng: random.Random, created: dt.datetime
) -> str:
    name = rng.choice(NAMES) + str(rng.randint(1, 5000))
    anonymous = rng.random() < 0.3
    email = f"<email>{name.lower()}@mail.example</email>" if rng.random() < 0.8 else "<email />"
    username = "" if anonymous else f"\n            <username>{name.lower()}</username>"
    deleted = rng.random() < 0.04
    spam = not deleted and rng.random() < 0.02
    parent_xml = f'\n        <parent dsq:id="{parent}" />' if parent else ""
    return (
        f'    <post dsq:id="{pid}">\n        <id />\n        <message>\n'
        f"            <![CDATA[{message(rng)}]]>\n        </message>\n"
        f"        <createdAt>{created:%Y-%m-%dT%H:%M:%SZ}</createdAt>\n"
        f"        <isDeleted>{'true' if deleted else 'false'}</isDeleted>\n"
        f"        <isSpam>{'true' if spam else 'false'}</isSpam>\n"
        f"        <author>\n            {email}\n            <name>{escape(name)}</name>\n"
        f"            <isAnonymous>{'true' if anonymous else 'false'}</isAnonymous>"
        f"{username}\n        </author>\n"
        f"        <ipAddress>198.51.{rng.randint(0, 255)}.{rng.randint(1, 254)}</ipAddress>\n"
        f'        <thread dsq:id="{tid}" />{parent_xml}\n    </post>\n'
    )


def generate(count: int, out: Path, seed: int = 1) -> None:
    rng = random.Random(seed)
    threads = max(1, count // 20)
    first_thread = 1_000_000
    with out.open("w", encoding="utf-8") as f:
        f.write(
            '<?xml version="1.0" encoding="utf-8"?>\n<disqus xmlns="http://disqus.com" '
            'xmlns:dsq="http://disqus.com/disqus-internals" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">\n'
            '    <category dsq:id="1">\n        <forum>bench</forum>\n'
            "        <title>General</title>\n        <isDefault>true</isDefault>\n"
            "    </category>\n"
        )
        for i in range(threads):
            created = START + dt.timedelta(minutes=i * 37)
            f.write(thread_xml(first_thread + i, rng, created))
        # Recent posts per thread (id, depth), so replies can point at them: bounded memory.
        recent: dict[int, list[tuple[int, int]]] = {}
        for n in range(count):
            # Skewed thread sizes: one very busy story (0.5% of all comments), a set of busy
            # ones (the first 2% of threads get 30%), a long tail of quiet ones.
            draw = rng.random()
            if draw < 0.005:
                index = 0
            elif draw < 0.3:
                index = rng.randrange(max(1, threads // 50))
            else:
                index = rng.randrange(threads)
            tid = first_thread + index
            pid = 50_000_000 + n
            seen = recent.setdefault(tid, [])
            parent = None
            depth = 0
            if seen and rng.random() < 0.55:
                parent, parent_depth = rng.choice(seen)
                if parent_depth >= 5:
                    parent = None
                else:
                    depth = parent_depth + 1
            seen.append((pid, depth))
            if len(seen) > 40:
                del seen[0]
            created = START + dt.timedelta(minutes=index * 37, seconds=n * 13)
            f.write(post_xml(pid, tid, parent, rng, created))
        f.write("</disqus>\n")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", type=int, help="number of comments (posts)")
    parser.add_argument("out", type=Path, help="XML file to write")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    generate(args.count, args.out, args.seed)
    size = args.out.stat().st_size
    print(f"wrote {args.count} posts to {args.out} ({size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
