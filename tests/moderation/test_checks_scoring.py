"""``score_texts``: the pipeline's text-only checks, for ``townhall moderation score``."""

from __future__ import annotations

from townhall.moderation.policy import parse_policy
from townhall.moderation.scoring import score_texts


def test_scores_each_text_without_history() -> None:
    policy = parse_policy(
        {"banned_words": ["idiot*"], "max_links": 0, "first_time_hold": 5, "premoderation": True}
    )
    out = score_texts(policy, ["you 1d10t", "see example.com", "Thanks for the report."])
    assert [r["text"] for r in out] == ["you 1d10t", "see example.com", "Thanks for the report."]
    assert [r["decision"] for r in out][:2] == ["reject", "hold"]
    assert out[0]["reasons"] == ['Contains a banned word: "idiot*".']
    assert out[1]["reasons"] == ["Has 1 link; more than 0 are held for review."]
    # Pre-moderation and first-time holds are about readers and threads, not texts.
    assert out[2]["decision"] in ("pass", "nudge", "hold")
    assert not any("moderation" in r or "New commenter" in r for r in out[2]["reasons"])
    for row in out:
        assert row["score"] is None or 0.0 <= row["score"] <= 1.0


def test_the_policys_check_selection_is_respected() -> None:
    policy = parse_policy({"banned_words": ["idiot*"], "checks": ["links"]})
    [row] = score_texts(policy, ["you 1d10t"])
    assert row["decision"] == "pass" and row["reasons"] == []


def test_swearing_is_nudged_unless_the_site_lists_the_words() -> None:
    """docs/moderation.md: the model only nudges swearing at nobody; a site that holds all
    swearing lists the words (the documented example), matched through obfuscation."""
    texts = ["What the f**k is the council doing?", "Holy sh!t, what a goal!"]
    default = score_texts(parse_policy({}), texts)
    assert [r["decision"] for r in default] == ["nudge", "nudge"]
    words = ["fuck*", "shit*", "bullshit", "crap", "damn", "piss*", "wtf"]
    strict = parse_policy({"suspect_words": words})
    listed = score_texts(strict, texts)
    assert [r["decision"] for r in listed] == ["hold", "hold"]
    assert [r["reasons"][0] for r in listed] == [
        'Contains a word on the review list: "fuck*".',
        'Contains a word on the review list: "shit*".',
    ]
