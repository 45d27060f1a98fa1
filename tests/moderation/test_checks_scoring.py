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
