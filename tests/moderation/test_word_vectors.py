"""The distilled word vectors shipped beside the toxicity model."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from townhall.moderation.toxicity import lexicon as lx
from townhall.moderation.toxicity.word_vectors import DEFAULT_PATH, WordVectors, write_table


@pytest.fixture(scope="module")
def table() -> WordVectors:
    return WordVectors.load()


def _cosine(table: WordVectors, a: str, b: str) -> float:
    u, v = table.vectors([table.index[a], table.index[b]])
    return float(u @ v / (np.linalg.norm(u) * np.linalg.norm(v)))


def test_loads_fast_and_is_small() -> None:
    began = time.perf_counter()
    WordVectors.load()
    assert time.perf_counter() - began < 0.5
    assert DEFAULT_PATH.stat().st_size < 2_500_000


def test_every_listed_insult_and_second_person_word_has_a_vector(table: WordVectors) -> None:
    for listed in (lx.INSULT, lx.PROFANE_INSULTS, lx.SECOND_PERSON, lx.DEHUMANISING):
        missing = {w.rstrip("*") for w in listed} - table.index.keys()
        assert not missing


@pytest.mark.parametrize(
    ("word", "near", "far"),
    [
        ("idiot", "moron", "bridge"),
        ("nitwit", "imbecile", "budget"),
        ("brilliant", "excellent", "idiot"),
        ("vermin", "rats", "neighbours"),
    ],
)
def test_words_that_mean_alike_are_near(table: WordVectors, word: str, near: str, far: str) -> None:
    assert _cosine(table, word, near) > _cosine(table, word, far) + 0.1


def test_mean_skips_words_without_a_vector(table: WordVectors) -> None:
    assert np.array_equal(table.mean(["idiot", "qqzzxq"]), table.vectors([table.index["idiot"]])[0])
    assert not table.mean(["qqzzxq"]).any()


def test_write_table_is_reproducible_and_close(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    vectors = rng.normal(0.0, 0.1, (5, 64))
    words = ["alpha", "beta", "gamma", "delta", "epsilon"]
    write_table(tmp_path / "a.npz", words, vectors)
    write_table(tmp_path / "b.npz", words, vectors)
    assert (tmp_path / "a.npz").read_bytes() == (tmp_path / "b.npz").read_bytes()
    loaded = WordVectors.load(tmp_path / "a.npz")
    assert list(loaded.index) == words
    step = np.abs(vectors).max(axis=0) / 127
    assert np.all(np.abs(loaded.vectors(range(5)) - vectors) <= step / 2 + 1e-9)
    write_table(tmp_path / "c.npz", words, vectors * 1.01)
    assert WordVectors.load(tmp_path / "c.npz").version != loaded.version
