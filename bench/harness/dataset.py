"""The benchmark's data: the same threads and comments for townhall and Isso.

Everything comes from a seeded random generator, so two runs (and two machines) build exactly
the same database. Threads come in groups, each used by one kind of workload so one workload's
writes never change what another reads:

- ``big``: one thread of 1,000 comments, 40 % top-level, replies nested up to depth 5;
- ``read``: 100 threads of 50 comments (page views of an ordinary article, and counts);
- ``write``: 100 threads of 50 comments that the posting workloads post into;
- ``mixed``: 100 threads of 50 comments for the mixed read/write workload;
- ``filler``: threads of 50 comments that only make the database large (townhall only).

Comment texts are Markdown (paragraphs, emphasis, the odd link or quote) drawn from a pool of
generated texts; townhall stores their rendered HTML as it would have on write.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from dataclasses import dataclass

BASE_TIME = 1_767_225_600.0  # 2026-01-01T00:00:00Z: seeded comments are old, outside rate windows
TOP_LEVEL_SHARE = 0.4
MAX_DEPTH = 5
SMALL_THREAD = 50
BIG_THREAD = 1000
GROUP_THREADS = 100
TEXT_POOL = 1500

_WORDS = (
    "the a an this that these those it its we they you he she our their my your his her one two "
    "three some many most more less few every each other another same different new old good bad "
    "great small large long short high low early late recent local national public private "
    "political economic social important clear simple hard easy real true false whole city "
    "council mayor minister government parliament election vote voters party campaign budget tax "
    "taxes money cost costs price prices market markets company companies bank workers jobs job "
    "wages housing rent school schools teachers students hospital doctors patients health care "
    "police court judge law laws rule rules report reports article story reporter editor news "
    "paper page headline question questions answer answers point points fact facts number numbers "
    "data study research plan plans project road roads traffic bus train trains bike station "
    "airport weather rain storm summer winter river park water power energy climate football "
    "match team season coach fans game games music film festival people person family families "
    "children parents neighbours community town village street year years month week day days "
    "time times morning evening night today yesterday tomorrow is are was were be been being have "
    "has had do does did will would can could should may might must said says think thinks know "
    "knew see saw read wrote agree disagree believe understand explain expect hope want need pay "
    "paid build built open close closed start started stop stopped change changed help helped "
    "keep kept move moved decide decided and or but because so if when while although since until "
    "after before about with without for from into over under between against during through not "
    "never always often sometimes already still just only also even really quite very rather "
    "almost enough perhaps maybe here there where why how what which who whom whose nothing "
    "everything something anything"
)
WORDS = tuple(_WORDS.split())

_FIRST_NAMES = (
    "Anna Ben Carla David Elena Farid Grace Hannes Ines Jonas Kemal Lea Marta Nils Olga Paul Rosa "
    "Samir Tanja Uwe Vera Wei Xenia Yusuf Zoe Ada Bruno Chloe Dario Emma Felix Gita Hugo Ida Jan "
    "Kira Luca Mia Noah Oskar Pia Quentin Rahel Sven Tara Ugo Viktor Wanda Yara"
)
FIRST_NAMES = tuple(_FIRST_NAMES.split())
_LAST_NAMES = (
    "Adler Becker Costa Dubois Eriksen Fischer Garcia Hoffmann Ivanova Jensen Kowalski Lambert "
    "Moreau Novak Olsen Petrov Quinn Rossi Schmidt Tanaka Urban Vogel Weber Young Zimmermann"
)
LAST_NAMES = tuple(_LAST_NAMES.split())


@dataclass(frozen=True)
class Thread:
    id: int  # the same id in townhall and Isso
    key: str  # townhall's thread key and Isso's uri
    title: str
    group: str


@dataclass(frozen=True)
class Comment:
    id: int  # the same id in townhall and Isso
    thread_id: int
    parent_id: int | None
    root_id: int | None  # the top-level ancestor (Isso folds every reply onto it)
    depth: int
    created: float  # Unix time
    author: str
    email: str | None
    website: str | None
    text: int  # index into Dataset.texts
    likes: int
    dislikes: int
    reader: int  # which simulated reader wrote it


def _sentence(rng: random.Random, low: int = 5, high: int = 16) -> str:
    words = [rng.choice(WORDS) for _ in range(rng.randint(low, high))]
    if rng.random() < 0.15:
        i = rng.randrange(len(words))
        words[i] = f"*{words[i]}*" if rng.random() < 0.6 else f"**{words[i]}**"
    text = " ".join(words)
    return text[0].upper() + text[1:] + rng.choice(".....?!")


def make_text(rng: random.Random, *, links: bool = True) -> str:
    """One comment in Markdown: one to three paragraphs of one to four sentences."""
    paragraphs = []
    for _ in range(rng.choices((1, 2, 3), weights=(6, 3, 1))[0]):
        sentences = [_sentence(rng) for _ in range(rng.randint(1, 4))]
        paragraphs.append(" ".join(sentences))
    if rng.random() < 0.08:
        paragraphs.insert(0, "> " + _sentence(rng))
    if links and rng.random() < 0.06:
        paragraphs[-1] += f" See [the report](https://example.org/report/{rng.randrange(10**6)})."
    return "\n\n".join(paragraphs)


def thread_shape(rng: random.Random, n: int) -> list[int | None]:
    """Parents (as indexes into the thread) of ``n`` comments in posting order: 40 % top-level,
    the rest replies, mostly to recent comments (a conversation), at most MAX_DEPTH deep."""
    n_top = max(1, round(n * TOP_LEVEL_SHARE))
    kinds = [True] * (n_top - 1) + [False] * (n - n_top)
    rng.shuffle(kinds)
    kinds.insert(0, True)
    parents: list[int | None] = []
    depth: list[int] = []
    for i, top in enumerate(kinds):
        if top:
            parents.append(None)
            depth.append(0)
            continue
        while True:
            j = max(0, i - 1 - int(rng.expovariate(1 / 12)))
            if depth[j] < MAX_DEPTH:
                break
        parents.append(j)
        depth.append(depth[j] + 1)
    return parents


@dataclass
class Dataset:
    """The threads and comments both systems get, plus filler threads for townhall."""

    seed: int
    texts: list[str]
    threads: list[Thread]
    comments: list[Comment]
    filler_comments: int = 0  # comments in filler threads (generated on demand)

    @property
    def size(self) -> int:
        return len(self.comments) + self.filler_comments

    def group(self, name: str) -> list[Thread]:
        return [t for t in self.threads if t.group == name]

    def by_thread(self, thread_id: int) -> list[Comment]:
        return [c for c in self.comments if c.thread_id == thread_id]

    def filler(self) -> Iterator[tuple[Thread, list[Comment]]]:
        """Filler threads of 50 comments, ids after the core dataset's, made on demand so a
        million comments never sit in memory at once."""
        rng = random.Random(self.seed + 1)
        n_threads = self.filler_comments // SMALL_THREAD
        thread_id = max(t.id for t in self.threads)
        comment_id = max(c.id for c in self.comments)
        start = BASE_TIME - 86400 * 365
        for i in range(n_threads):
            thread_id += 1
            thread = Thread(thread_id, f"/archive/{i:07d}", f"Archived story {i}", "filler")
            comments = _thread_comments(
                rng, thread, comment_id + 1, SMALL_THREAD, start + i * 600, len(self.texts)
            )
            comment_id += SMALL_THREAD
            yield thread, comments


def _thread_comments(
    rng: random.Random, thread: Thread, first_id: int, n: int, start: float, n_texts: int
) -> list[Comment]:
    parents = thread_shape(rng, n)
    out: list[Comment] = []
    for i, parent in enumerate(parents):
        pc = None if parent is None else out[parent]
        reader = rng.randrange(20_000)
        first, last = FIRST_NAMES[reader % len(FIRST_NAMES)], LAST_NAMES[reader % len(LAST_NAMES)]
        out.append(
            Comment(
                id=first_id + i,
                thread_id=thread.id,
                parent_id=None if pc is None else pc.id,
                root_id=None if pc is None else (pc.root_id or pc.id),
                depth=0 if pc is None else pc.depth + 1,
                created=start + i * 7 + rng.random(),
                author=f"{first} {last}",
                email=f"reader{reader}@mail.example" if reader % 3 == 0 else None,
                website=f"https://blog{reader}.example" if reader % 10 == 0 else None,
                text=rng.randrange(n_texts),
                likes=int(rng.expovariate(0.5)),
                dislikes=int(rng.expovariate(1.5)),
                reader=reader,
            )
        )
    return out


def build(*, total_comments: int = 0, seed: int = 7) -> Dataset:
    """The core dataset (a 1,000-comment thread and three groups of 100 threads of 50), plus
    filler threads so that the whole database holds ``total_comments`` (if larger)."""
    rng = random.Random(seed)
    texts = [make_text(rng) for _ in range(TEXT_POOL)]
    threads: list[Thread] = [Thread(1, "/news/2026/the-big-story", "The big story", "big")]
    for group in ("read", "write", "mixed"):
        for i in range(GROUP_THREADS):
            key = f"/news/2026/{group}-{i:03d}"
            threads.append(Thread(len(threads) + 1, key, f"Story {group} {i}", group))
    comments: list[Comment] = []
    for thread in threads:
        n = BIG_THREAD if thread.group == "big" else SMALL_THREAD
        start = BASE_TIME + thread.id * 3600
        comments += _thread_comments(rng, thread, len(comments) + 1, n, start, len(texts))
    filler = max(0, total_comments - len(comments))
    filler -= filler % SMALL_THREAD
    return Dataset(
        seed=seed, texts=texts, threads=threads, comments=comments, filler_comments=filler
    )


def shape_stats(comments: list[Comment]) -> dict[str, int]:
    top = sum(1 for c in comments if c.parent_id is None)
    return {
        "comments": len(comments),
        "top_level": top,
        "max_depth": max((c.depth for c in comments), default=0),
        "at_max_depth": sum(1 for c in comments if c.depth == MAX_DEPTH),
    }


def post_texts(seed: str, n: int) -> list[str]:
    """``n`` distinct comment texts to post: civil, no links (a link from a new reader is held
    for review, which is fine but not what this measures), different enough from each other
    that the duplicate and flood checks pass them."""
    rng = random.Random(seed)
    return [make_text(rng, links=False) + f" ({i})" for i in range(n)]
