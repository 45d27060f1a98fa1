"""Every built-in moderation check, through ``submit_comment`` on a real SQLite database:
what holds, rejects or nudges, what passes, and the reasons moderators see."""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

import pytest
from sqlalchemy import select, update

from tests.moderation.conftest import post, reader, set_policy
from townhall.domain import moderation as mod
from townhall.domain.comments import edit_comment, flag
from townhall.domain.errors import Forbidden, NudgeRequired, RateLimited
from townhall.domain.services import Services
from townhall.moderation import minhash
from townhall.moderation.checks import duplicates
from townhall.moderation.checks.duplicates import FLOOD_SIMILARITY, NEAR_DUPLICATE, similarity
from townhall.moderation.checks.links import find_links
from townhall.moderation.checks.toxicity import load_model, verdict_for
from townhall.moderation.pipeline import load_plugins, registry
from townhall.moderation.policy import Policy
from townhall.store.schema import comments, threads
from townhall.types import CommentStatus, Verdict

pytestmark = pytest.mark.usefixtures("sqlite_site")
MOD = "mod@news.example"
LONG = (
    "The new bus timetable leaves the northern villages without an evening service, "
    "which matters for shift workers."
)


@pytest.fixture
def svc(sqlite_services: Services) -> Services:
    return sqlite_services


def results(posted: Any) -> dict[str, Any]:
    return {r.check: r for r in posted.decision.results}


def stored_status(svc: Services, comment_id: str) -> CommentStatus:
    with svc.db.read() as conn:
        value = conn.execute(
            select(comments.c.status).where(comments.c.id == int(comment_id))
        ).scalar_one()
    return CommentStatus(value)


def test_builtins_register_like_plugins_in_a_cheap_first_order() -> None:
    load_plugins()
    names = list(registry.checks)
    expected = [
        "closed",
        "ban",
        "premoderation",
        "rate_limit",
        "banned_words",
        "suspect_words",
        "links",
        "duplicate",
        "first_time",
        "toxicity",
    ]
    assert [n for n in names if n in expected] == expected


# --- words ---------------------------------------------------------------------------------------


def test_banned_word_rejects_and_suspect_word_holds(svc: Services) -> None:
    set_policy(svc, banned_words=["idiot*"], suspect_words=["scam"])
    rejected = post(svc, "What a 1d10t.", reader(1))
    assert rejected.decision.verdict is Verdict.REJECT
    assert stored_status(svc, rejected.comment.id) is CommentStatus.REJECTED
    result = results(rejected)["banned_words"]
    assert result.reason == 'Contains a banned word: "idiot*".'
    assert result.details == {
        "matches": [{"pattern": "idiot*", "matched": "1d10t", "start": 7, "end": 12}]
    }
    # The author is not told it was rejected: it looks held to them.
    assert rejected.status is CommentStatus.PENDING

    held = post(svc, "This offer looks like a S C A M to me", reader(2))
    assert held.decision.verdict is Verdict.HOLD
    assert stored_status(svc, held.comment.id) is CommentStatus.PENDING
    assert "scam" in results(held)["suspect_words"].reason


def test_word_lists_leave_ordinary_words_alone(svc: Services) -> None:
    set_policy(svc, banned_words=["cunt", "ass", "idiot"], suspect_words=["hell"])
    for i, text in enumerate(
        [
            "Scunthorpe deserved the win.",
            "A class act; we should assess the bypass.",
            "Hello, shell company, Michelle.",
            "The minister's plan is foolish and should be scrapped.",
        ]
    ):
        posted = post(svc, text, reader(10 + i))
        assert posted.status is CommentStatus.PUBLISHED, (text, posted.decision.reasons)


def test_word_lists_per_thread_override(svc: Services) -> None:
    posted = post(svc, "A first comment creates the thread.", reader(1))
    with svc.db.write() as conn:
        conn.execute(update(threads).values(policy={"suspect_words": ["rumour"]}))
    held = post(svc, "Is this a rumour?", reader(2))
    assert held.status is CommentStatus.PENDING
    other = post(svc, "Is this a rumour?", reader(3), thread="/other")
    assert other.status is CommentStatus.PUBLISHED
    assert posted.status is CommentStatus.PUBLISHED


# --- links ---------------------------------------------------------------------------------------


def test_links_are_counted_in_every_form() -> None:
    text = (
        "See [the report](https://council.example.gov/report.pdf), <https://a.org/x>, "
        "https://b.net/y, www.c.com and d.co.uk/path, plus shop.example[.]com."
    )
    hosts = [link.host for link in find_links(text)]
    assert sorted(hosts) == sorted(
        ["council.example.gov", "a.org", "b.net", "c.com", "d.co.uk", "shop.example.com"]
    )


@pytest.mark.parametrize(
    "text",
    [
        "e.g. this, i.e. that",
        "Node.js and file.txt are fine",
        "Pi is 3.14, version 2.0.1",
        "U.S.A. and the U.K. agreed",
        "It ended.Then it began.",
        "mail me at ann@example.org",
    ],
)
def test_things_that_look_a_little_like_links_are_not(text: str) -> None:
    assert find_links(text) == []


def test_more_links_than_allowed_hold(svc: Services) -> None:
    set_policy(svc, max_links=1, hold_new_author_links=False)
    one = post(svc, "Source: https://a.org/x", reader(1))
    assert one.status is CommentStatus.PUBLISHED
    two = post(svc, "Sources: https://a.org/x and example.com/y", reader(2))
    assert two.status is CommentStatus.PENDING
    assert results(two)["links"].reason == "Has 2 links; more than 1 is held for review."


def test_blocked_domains_reject_as_spam_including_subdomains(svc: Services) -> None:
    set_policy(svc, link_blocklist=["spam.example"], hold_new_author_links=False)
    posted = post(svc, "Cheap pills at shop.spam.example/buy", reader(1))
    assert stored_status(svc, posted.comment.id) is CommentStatus.SPAM
    assert results(posted)["links"].reason == "Links to a blocked domain: spam.example."
    # A look-alike letter does not dodge the list, nor does a domain the list does not name.
    disguised = post(svc, "Cheap pills at sp\u0430m.example", reader(2))
    assert stored_status(svc, disguised.comment.id) is CommentStatus.SPAM
    fine = post(svc, "See notspam.example.com/page", reader(3))
    assert fine.status is CommentStatus.PUBLISHED


def test_allowed_domains_never_count(svc: Services) -> None:
    set_policy(svc, max_links=0, link_allowlist=["https://www.news.example/"])
    posted = post(svc, "As reported at news.example/a and live.news.example/b", reader(1))
    assert posted.status is CommentStatus.PUBLISHED
    other = post(svc, "As reported at news.example/a and elsewhere.org", reader(2))
    assert other.status is CommentStatus.PENDING


def test_new_authors_links_wait_until_one_comment_was_approved(svc: Services) -> None:
    ann = reader(1)
    first = post(svc, "Source: https://a.org/report", ann)
    assert first.status is CommentStatus.PENDING
    assert "no approved comment" in results(first)["links"].reason
    mod.approve(svc, MOD, first.comment.id)
    second = post(svc, "Another source: https://b.org/report", ann)
    assert second.status is CommentStatus.PUBLISHED


# --- duplicates ----------------------------------------------------------------------------------


def test_same_reader_repeating_is_rejected_as_spam(svc: Services) -> None:
    ann = reader(1)
    assert post(svc, LONG, ann).status is CommentStatus.PUBLISHED
    again = post(svc, LONG.upper() + "!!", ann, thread="/elsewhere")
    assert stored_status(svc, again.comment.id) is CommentStatus.SPAM
    assert results(again)["duplicate"].score == 1.0
    near = post(svc, LONG.replace("shift workers", "night workers"), ann)
    assert stored_status(svc, near.comment.id) is CommentStatus.SPAM
    assert "nearly the same" in results(near)["duplicate"].reason


def test_short_repeats_only_count_within_one_thread(svc: Services) -> None:
    ann = reader(1)
    assert post(svc, "Thanks!", ann).status is CommentStatus.PUBLISHED
    assert post(svc, "Thanks!", ann, thread="/another").status is CommentStatus.PUBLISHED
    double = post(svc, "thanks", ann)
    assert stored_status(svc, double.comment.id) is CommentStatus.SPAM
    # Somebody else saying thanks is not a flood.
    assert post(svc, "Thanks!", reader(2)).status is CommentStatus.PUBLISHED


def test_duplicates_outside_the_window_pass(svc: Services) -> None:
    ann = reader(1)
    post(svc, LONG, ann)
    with svc.db.write() as conn:
        conn.execute(
            update(comments).values(created_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=2))
        )
    assert post(svc, LONG, ann).status is CommentStatus.PUBLISHED


def test_different_readers_posting_the_same_text_is_a_flood_held(svc: Services) -> None:
    assert post(svc, LONG, reader(1)).status is CommentStatus.PUBLISHED
    copy = post(svc, LONG + " Agreed.", reader(2))
    assert copy.status is CommentStatus.PENDING
    assert results(copy)["flood"].verdict is Verdict.HOLD
    # In another thread the same text is no flood there.
    assert post(svc, LONG, reader(3), thread="/other").status is CommentStatus.PUBLISHED


def test_quoting_a_comment_is_not_copying_it(svc: Services) -> None:
    first = post(svc, LONG, reader(1))
    reply = post(
        svc,
        "> " + LONG + "\n\nExactly, and nobody asked the villages.",
        reader(2),
        parent_id=first.comment.id,
    )
    assert reply.status is CommentStatus.PUBLISHED


def test_similarity_is_tolerant_but_not_loose() -> None:
    assert similarity(LONG, LONG.lower()) == 1.0
    assert similarity(LONG, LONG.replace("shift workers", "night workers")) >= NEAR_DUPLICATE
    # Readers who disagree in nearly the same words are no flood.
    yes = "The minister should resign over this scandal right now."
    assert NEAR_DUPLICATE < similarity(yes, yes.replace("should", "should not")) < FLOOD_SIMILARITY
    assert similarity(LONG, "A completely different thought about the weather and tea.") < 0.2


def test_the_quick_bound_never_hides_a_near_copy() -> None:
    """The sample-of-4-grams shortcut rules pairs out only when the exact Jaccard could not
    reach the floor: near copies of every edit distance get the exact score."""
    rng = random.Random(5)
    near_copies = 0
    vocabulary = sorted(set(LONG.lower().replace(".", "").replace(",", "").split()))
    # 90 words: long enough for the sample to be used, few repeated 4-grams
    words = [rng.choice(vocabulary) + rng.choice("aeiou") for _ in range(90)]
    for _ in range(300):
        text = " ".join(words)
        copy = list(words)
        for _ in range(rng.randrange(0, 12)):  # change, drop or add a few words
            i = rng.randrange(len(copy))
            choice = rng.random()
            if choice < 0.4:
                copy[i] = rng.choice(["tram", "ferry", "council", "budget", "x"])
            elif choice < 0.7:
                del copy[i]
            else:
                copy.insert(i, rng.choice(["really", "not", "also"]))
        other = " ".join(copy)
        a, b = duplicates._key(text)[0], duplicates._key(other)[0]
        sa, sb = _grams(a), _grams(b)
        exact = len(sa & sb) / len(sa | sb)
        for floor in (NEAR_DUPLICATE, FLOOD_SIMILARITY):
            found = duplicates._first_match(a, [other], floor)
            if exact >= floor:
                assert found == pytest.approx(exact)
                near_copies += 1
                # even when every 4-gram B lacks falls into the sample, the bound holds
                assert not duplicates._cannot_reach(floor, len(sa), len(sb), len(sa - sb))
            else:
                assert found < floor
    assert near_copies > 100


def _grams(stream: str) -> set[str]:
    return {stream[i : i + 4] for i in range(len(stream) - 3)}


def test_near_copies_always_share_a_signature_band_and_strangers_rarely_do() -> None:
    """The flood check compares exactly only the comments whose stored MinHash signature
    shares a band with the new one's: no near copy may be left out, and other comments get in
    no more often than MinHash promises, 1 - (1 - J^5)^20 for a similarity J."""
    rng = random.Random(11)
    vocabulary = sorted(set(LONG.lower().replace(".", "").replace(",", "").split()))
    near = others = let_in = 0
    expected = 0.0
    for _ in range(400):
        words = [rng.choice(vocabulary) + rng.choice("aeiou") for _ in range(rng.randrange(8, 80))]
        copy = list(words)
        for _ in range(rng.randrange(0, 4)):
            copy[rng.randrange(len(copy))] = rng.choice(["tram", "ferry", "council"])
        # another comment under the same story: some of the same words, and words of its own
        other = [
            w if rng.random() < 0.4 else "".join(rng.choices("bcdfglmnprstvz", k=6))
            for w in rng.sample(words, len(words))
        ]
        a = duplicates._key(" ".join(words))[0]
        mine = minhash.signature(a)
        for text in (" ".join(copy), " ".join(other)):
            b = duplicates._key(text)[0]
            exact = len(_grams(a) & _grams(b)) / len(_grams(a) | _grams(b))
            shares = minhash.candidates(mine, [minhash.signature(b)])[0]
            if exact >= FLOOD_SIMILARITY:
                near += 1
                assert shares, (a, b, exact)
            else:
                others += 1
                let_in += shares
                expected += 1 - (1 - exact**minhash.ROWS) ** minhash.BANDS
    assert near > 100 and others > 350
    assert let_in <= expected + 3 * expected**0.5 + 3, (let_in, expected, others)
    assert let_in < others / 2  # these share 40 % of their words: most still stay out


def test_signatures_are_stable_across_versions() -> None:
    # Stored with every comment and compared across processes, nodes and upgrades: a change to
    # the scheme must change SIZE (old signatures are then compared the slow way), not the bytes.
    assert minhash.signature("the council votes on the bus timetable").hex() == (
        SIGNATURE_OF_TIMETABLE
    )
    assert minhash.candidates(b"x" * minhash.SIZE, [None, b"short"]) == [True, True]


SIGNATURE_OF_TIMETABLE = (
    "6800dd960bf530ae9958208abdeb37ba1f857aa005b87900d69170dc6c7dab200f9df3887d9ed24d"
)


def test_a_flood_is_found_among_comments_without_a_signature(svc: Services) -> None:
    """Comments written before signatures existed (or imported) are compared by their text."""
    assert post(svc, LONG, reader(1)).status is CommentStatus.PUBLISHED
    with svc.db.write() as conn:
        conn.execute(update(comments).values(signature=None))
    assert post(svc, LONG + " Agreed.", reader(2)).status is CommentStatus.PENDING


def test_an_edited_comment_is_compared_by_its_new_text(svc: Services) -> None:
    first = post(svc, "A short note to start with, nothing to copy here.", reader(1))
    edit_comment(svc, first.comment.id, first.edit_token, LONG, reader(1))
    assert post(svc, LONG + " Agreed.", reader(2)).status is CommentStatus.PENDING


# --- first-time commenters ----------------------------------------------------------------------


def test_first_time_commenters_are_held_until_enough_were_approved(svc: Services) -> None:
    set_policy(svc, first_time_hold=2)
    ann = reader(1)
    first = post(svc, "My first comment here.", ann, email="ann@example.org")
    assert first.status is CommentStatus.PENDING
    assert results(first)["first_time"].reason.startswith("New commenter: 0 of 2")
    mod.approve(svc, MOD, first.comment.id)
    second = post(svc, "My second comment here.", ann, email="ann@example.org")
    assert second.status is CommentStatus.PENDING
    mod.approve(svc, MOD, second.comment.id)
    # Known by email too: a new browser (new reader token) is not a new commenter.
    third = post(svc, "And a third one.", reader(9), email="ann@example.org")
    assert third.status is CommentStatus.PUBLISHED


# --- toxicity -----------------------------------------------------------------------------------


def test_toxicity_thresholds_map_to_verdicts() -> None:
    policy = Policy(toxicity_nudge=0.3, toxicity_hold=0.5, toxicity_reject=0.9)
    assert verdict_for(policy, 0.1)[0] is Verdict.PASS
    assert verdict_for(policy, 0.3)[0] is Verdict.NUDGE
    assert verdict_for(policy, 0.5)[0] is Verdict.HOLD
    assert verdict_for(policy, 0.95)[0] is Verdict.REJECT
    off = Policy(toxicity_nudge=None, toxicity_hold=None)
    assert verdict_for(off, 0.99)[0] is Verdict.PASS
    assert verdict_for(policy, 0.62)[1] == (
        "Toxicity 0.62: from 0.50 a comment is held for review."
    )
    assert verdict_for(policy, 0.95)[1] == "Toxicity 0.95: from 0.90 a comment is rejected."
    assert verdict_for(policy, 0.41)[1] == (
        "Toxicity 0.41: from 0.30 its author is asked to reconsider."
    )
    assert verdict_for(policy, 0.1)[1] == "Toxicity 0.10: below the site's thresholds."


def _model_or_skip() -> Any:
    model = load_model()
    if model is None:
        pytest.skip("the toxicity model (townhall.moderation.toxicity) is not installed yet")
    return model


def test_policy_defaults_follow_the_models_recommended_thresholds() -> None:
    _model_or_skip()
    from townhall.moderation import toxicity

    assert Policy().toxicity_hold == toxicity.DEFAULT_HOLD_THRESHOLD
    assert Policy().toxicity_nudge == toxicity.DEFAULT_NUDGE_THRESHOLD
    assert Policy().toxicity_reject is None


def test_toxic_comments_are_nudged_or_held_with_an_explanation(svc: Services) -> None:
    model = _model_or_skip()
    text = "Only an idiot would believe this, you moron."
    assert model.score(text) >= Policy().toxicity_hold
    set_policy(svc, toxicity_hold=None, toxicity_nudge=0.05)  # nudge alone: the score is ~1.0
    with pytest.raises(NudgeRequired):
        post(svc, text, reader(1))
    set_policy(svc, toxicity_hold=Policy().toxicity_hold, toxicity_nudge=None)
    held = post(svc, text, reader(2))
    assert held.status is CommentStatus.PENDING
    result = results(held)["toxicity"]
    assert result.score == pytest.approx(model.score(text))
    terms = result.details["explanation"]
    assert terms and all(text[t["start"] : t["end"]] for t in terms)
    assert held.decision.toxicity == result.score


def test_posting_anyway_after_a_nudge_is_held(svc: Services) -> None:
    model = _model_or_skip()
    text = "Only an idiot would believe this."
    set_policy(svc, toxicity_nudge=0.01, toxicity_hold=None)
    assert model.score(text) >= 0.01
    posted = post(svc, text, reader(1), confirm=True)
    assert posted.status is CommentStatus.PENDING


@pytest.mark.parametrize(
    "text",
    [
        "This policy is a disaster and the minister should resign.",
        "I strongly disagree: the figures in this article are simply wrong.",
        "Thank you for covering the council meeting.",
    ],
)
def test_civil_strong_opinions_pass_the_model(svc: Services, text: str) -> None:
    _model_or_skip()
    posted = post(svc, text, reader(1))
    assert posted.status is CommentStatus.PUBLISHED, posted.decision.reasons


# --- access, bans and rates still work ----------------------------------------------------------


def test_closed_thread_refuses(svc: Services) -> None:
    post(svc, "Before closing.", reader(1))
    mod.close_thread(svc, MOD, _thread_id(svc))
    with pytest.raises(Forbidden) as err:
        post(svc, "After closing.", reader(2))
    assert err.value.code == "closed"


def _thread_id(svc: Services) -> int:
    with svc.db.read() as conn:
        return int(conn.execute(select(threads.c.id)).scalars().first() or 0)


def test_ban_refuses_and_shadow_ban_shows_only_to_the_author(svc: Services) -> None:
    first = post(svc, "Hello there.", reader(1))
    mod.ban(svc, MOD, kind="reader", comment_id=first.comment.id, reason="abuse")
    with pytest.raises(Forbidden) as err:
        post(svc, "Let me back in.", reader(1))
    assert err.value.code == "banned"

    other = post(svc, "Hello from two.", reader(2))
    mod.ban(svc, MOD, kind="reader", comment_id=other.comment.id, reason="troll", shadow=True)
    shadowed = post(svc, "Nobody sees this.", reader(2))
    assert shadowed.status is CommentStatus.PUBLISHED  # as far as the author can tell
    assert stored_status(svc, shadowed.comment.id) is CommentStatus.SPAM
    assert results(shadowed)["ban"].shadow


def test_premoderation_holds_everything(svc: Services) -> None:
    set_policy(svc, premoderation=True)
    assert post(svc, "Held for sure.", reader(1)).status is CommentStatus.PENDING


def test_rate_limits_refuse_bursts(svc: Services) -> None:
    set_policy(svc, rate_burst=2)
    post(svc, "One.", reader(1))
    post(svc, "Two, different.", reader(1), thread="/b")
    with pytest.raises(RateLimited) as err:
        post(svc, "Three, also different.", reader(1), thread="/c")
    assert err.value.retry_after == 60


# --- reader flags -------------------------------------------------------------------------------


def test_distinct_reader_flags_put_a_published_comment_back_in_the_queue(svc: Services) -> None:
    set_policy(svc, flags_to_hold=3)
    posted = post(svc, "A perfectly fine comment.", reader(1))
    flag(svc, posted.comment.id, "abuse", None, reader(2))
    flag(svc, posted.comment.id, "abuse", "again", reader(2))  # one flag per reader
    flag(svc, posted.comment.id, "spam", None, reader(3))
    assert stored_status(svc, posted.comment.id) is CommentStatus.PUBLISHED
    flag(svc, posted.comment.id, "off_topic", "not about the bus", reader(4))
    assert stored_status(svc, posted.comment.id) is CommentStatus.PENDING
    with svc.db.read() as conn:
        count = conn.execute(select(threads.c.comment_count)).scalar_one()
    assert count == 0
    page = mod.queue(svc, mod.QueueFilter(status="flagged"))
    [item] = page.items
    assert [f.reason for f in item.flags] == ["abuse", "spam", "off_topic"]
    assert item.flags[2].note == "not about the bus"
