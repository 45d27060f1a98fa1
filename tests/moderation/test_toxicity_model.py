"""The shipped toxicity model, tested as the pipeline uses it (real model file, no mocks)."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import threading
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from tests.moderation.conftest import OTHER_KERNELS, PINNABLE
from townhall.moderation.toxicity import (
    DEFAULT_HOLD_THRESHOLD,
    DEFAULT_NUDGE_THRESHOLD,
    Contribution,
    ToxicityModel,
    default_model,
    kernels,
)
from townhall.moderation.toxicity.datasets import EVAL_DIRS_ENV, posts_containing, read_csv
from townhall.moderation.toxicity.datasets import test_splits as held_out_splits
from townhall.moderation.toxicity.features import FeatureConfig, extract
from townhall.moderation.toxicity.model import DEFAULT_PATH
from townhall.moderation.toxicity.network import VECTOR_SCALE
from townhall.moderation.toxicity.training import evaluate
from townhall.moderation.toxicity.word_vectors import DEFAULT_PATH as VECTORS_PATH
from townhall.moderation.toxicity.word_vectors import WordVectors, write_table

ROOT = Path(__file__).resolve().parents[2]
DATA = ROOT / "data" / "toxicity"
METRICS = DEFAULT_PATH.with_name("toxicity-metrics.json")
# Eval-only splits (Impermium, Kaggle terms) are not in the repository; CI has shared/ beside it.
SHARED_SPLITS = ROOT.parent / "shared" / "data" / "toxicity" / "splits"

# None of these sentences is in the training data.
ABUSIVE = [
    "Shut up, you worthless piece of garbage.",
    "This columnist is a fucking idiot.",
    "You are the stupidest person I have ever argued with.",
    "Get out of here, you filthy degenerate.",
]
CIVIL = [
    "The new bike lanes on Main Street have made my commute much safer.",
    "I would like to see the council publish the full cost estimate.",
    "Thanks for the thoughtful reporting on the hospital waiting lists.",
    "My grandfather worked at that mill for forty years.",
]
OBFUSCATED = [
    "what an absolute m0r0n",
    "go f**k yourself",
    "you are an i d i o t",
    "stuuuupid idiooooot",
    "you d**k",
]
# Swearing that names nobody is milder (severity.py): its author is nudged, and the obfuscated
# spelling scores as the plain one does. (A site that holds all swearing lists the words.)
OBFUSCATED_SWEARING = {
    "this is complete b.u.l.l.s.h.i.t": "this is complete bullshit",
    "sh!t article": "shit article",
    "What the f*ck is the council doing?": "What the fuck is the council doing?",
}
SWEARING_ONLY = [
    "What the fuck is the council doing?",
    "Holy shit, what a goal!",
    "What a load of crap.",
    "Damn, the bridge is closed again.",
]
SWEARING_AT_SOMEONE = [
    "You are full of shit.",
    "This columnist is a fucking idiot.",
    "Fuck off, you clown.",
    "The mayor is an asshole.",
]
THIRD_PARTY = [
    "You're a moron if you think that will work.",
    "Only an idiot would vote for this clown.",
    "Anyone who believes this rubbish is a fool.",
    "Those people are animals.",
    "They are vermin, all of them.",
    "Immigrants are parasites draining our country.",
]
# Mocking nicknames alone are milder: the model nudges their authors, and holds them when the
# rest of the comment is abusive too (see docs/model-card.md, thresholds).
NICKNAMES = [
    "Sleepy Joe can't remember what day it is.",
    "Crooked Hillary should be locked up.",
    "Dementia Joe is lost again.",
]
STRONG_CIVIL = [
    "This plan is a fiasco and the finance minister ought to step down.",
    "I disagree completely; the statistics say the opposite.",
    "The mayor's budget is reckless and will raise our property taxes.",
    "I think you are wrong about this, the report says something different.",
    "The government has failed refugees and should be ashamed of its record.",
    "Trump's trade war hurt American farmers.",
]

# A word or two is little evidence: harmless ones must not even nudge (the one-word scores used to
# be absurd: "A" 0.93, "Child" 0.70), while a short insult is still held. None is in the data.
SHORT_HARMLESS = ["A", "Child", "Thanks", "Agreed.", "Good point"]
SHORT_INSULTS = ["idiot", "you moron"]

# Short civil texts made of the words the fifth policy round's put-downs are built from ("bless",
# "take your time", "nobody told", "read", "homework", "school", "smart", "sure"...): greetings,
# logistics, sympathy, civil disagreement. They probe that class of false positive and are never
# put into the training or test data (docs/model-card.md, sixth round).
PUTDOWN_WORD_PROBES = [
    "Bless you!",
    "Take your time.",
    "Nobody told us the road was closing.",
    "You clearly didn't read the report.",
    "You are wrong.",
    "Do your homework before you vote.",
    "Reading is my favourite hobby.",
    "Honey, I'm home.",
    "Are you sure?",
    "My son went back to school.",
    "You must be so proud of her.",
    "Thanks for taking the time to explain.",
    "Nobody was at the bus stop this morning.",
    "I'm not sure I understand the new parking rules.",
    "Smart move by the library to open on Sundays.",
    "That's a clever idea for the park.",
    "Did you read the second page of the report?",
    "The school board meets on Wednesday.",
    "Bless the volunteers who cleared the snow.",
    "Sure, I can give you a lift.",
    "I understand your point, but I disagree.",
    "Education funding is up two percent this year.",
    "Simple question: when does the pool open?",
    "Who told you the market was cancelled?",
    "Homework club starts at four.",
    "Time for a new roof on the town hall.",
    "You might want to read the fine print.",
    "I'm sorry, I didn't understand your question.",
    "Good luck at your new school!",
    "You're right, I misread the chart.",
    "Nobody I know got the letter.",
    "Your kids are so smart.",
    "Read it twice, still love it.",
    "It's simple, really: turn left at the church.",
    "I'm sure you'll do well.",
    "Take your kids to the fair, it's free.",
    "Have you got time for a coffee?",
    "Please read the notice before parking.",
    "The teacher told us the trip was postponed.",
    "Clever dog, he opens the gate himself.",
]


# Kind words addressed to the reader ("you are a …", "you're a …", "what a … you are"): the frame
# of most insults in the training data, whose addressed toxic rows count 3x. With model
# d1b5fb6aad4b 31 of these 40 were nudged ("You are a genius" was held at 0.99); the seventh
# policy round's compliments bring that to 13, none held. Never put into the data.
COMPLIMENT_PROBES = [
    "You're a gem, thanks for shovelling our walk.",
    "You are a natural at explaining this stuff.",
    "You really are a treasure to this street.",
    "What a kind neighbour you are.",
    "You're a wizard, the printer works again!",
    "You are so generous with your time.",
    "You're an angel for feeding our cat.",
    "You are a credit to the paper, great reporting.",
    "You're a brilliant writer, keep it up.",
    "You really are the best columnist here.",
    "What a thoughtful person you are.",
    "You're a champ for driving everyone home.",
    "You are a saint, honestly.",
    "You are so patient with these questions.",
    "You're a rock star, thank you!",
    "You are a great teacher, my kids adore you.",
    "You're a hoot, I laughed all morning.",
    "You are so right about the park, thank you.",
    "You are a lovely person and a fine baker.",
    "You're a true friend to this town.",
    "What a talented photographer you are!",
    "You really are a good egg.",
    "You are a born storyteller.",
    "You're an inspiration to the whole club.",
    "You are the kindest man on our block.",
    "You're a clever one, that fix worked perfectly.",
    "You are so brave to share this story.",
    "You're a real pro, the article was spot on.",
    "You are an absolute delight, thanks for the recipe.",
    "You're a top bloke, cheers for the ladder.",
    "You really are a wonderful writer.",
    "You are a blessing to this neighbourhood.",
    "What a star you are, thank you!",
    "You're a marvel, the garden looks amazing.",
    "You are so funny, I needed that laugh.",
    "You're a good woman, thank you for helping Dad.",
    "You are a hero to every nurse in this city.",
    "You're a smart cookie, you spotted the typo first.",
    "You really are a sweetheart for visiting Gran.",
    "You are one smart reporter, great piece.",
]


@pytest.fixture(scope="module")
def model() -> ToxicityModel:
    return default_model()


def test_loads_fast_and_has_a_version() -> None:
    began = time.perf_counter()
    loaded = ToxicityModel.load()
    assert time.perf_counter() - began < 1.0
    assert len(loaded.version) == 12
    assert loaded.version == ToxicityModel.load(DEFAULT_PATH).version
    assert default_model() is default_model()


def test_files_are_small_and_have_no_pickle() -> None:
    # the model and the word vectors its network reads: 5 MB together (issue 4)
    assert DEFAULT_PATH.stat().st_size + VECTORS_PATH.stat().st_size < 5_000_000
    for path in (DEFAULT_PATH, VECTORS_PATH):
        with zipfile.ZipFile(path) as archive:
            for name in archive.namelist():
                array = np.load(io.BytesIO(archive.read(name)), allow_pickle=False)
                assert array.dtype != object, name
    with np.load(DEFAULT_PATH, allow_pickle=False) as arrays:
        assert set(arrays.files) == {"meta", "idf", "weights", "bias", "net_w1", "net_b1", "net_w2"}


def _another_table(tmp_path: Path) -> Path:
    """The shipped word vectors, scaled: the same words, another table (another version)."""
    table = WordVectors.load()
    words = sorted(table.index, key=table.index.__getitem__)
    other = tmp_path / "word-vectors.npz"
    write_table(other, words, table.vectors(range(len(words))) * 1.5)
    return other


def test_refuses_word_vectors_it_was_not_fitted_on(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="retrain the model"):
        ToxicityModel.load(DEFAULT_PATH, vectors_path=_another_table(tmp_path))


def test_thresholds_match_the_model_file(model: ToxicityModel) -> None:
    recorded = model.meta["thresholds"]
    assert recorded["hold"] == DEFAULT_HOLD_THRESHOLD
    assert recorded["nudge"] == DEFAULT_NUDGE_THRESHOLD
    assert 0.0 < DEFAULT_NUDGE_THRESHOLD <= DEFAULT_HOLD_THRESHOLD < 1.0


@pytest.mark.parametrize("text", ABUSIVE)
def test_abusive_is_held(model: ToxicityModel, text: str) -> None:
    assert model.score(text) >= DEFAULT_HOLD_THRESHOLD


@pytest.mark.parametrize("text", CIVIL)
def test_civil_passes_without_a_nudge(model: ToxicityModel, text: str) -> None:
    assert model.score(text) < DEFAULT_NUDGE_THRESHOLD


@pytest.mark.parametrize("text", OBFUSCATED)
def test_obfuscated_abuse_is_caught(model: ToxicityModel, text: str) -> None:
    assert model.score(text) >= DEFAULT_HOLD_THRESHOLD


@pytest.mark.parametrize(("text", "plain"), OBFUSCATED_SWEARING.items())
def test_obfuscated_swearing_scores_as_the_plain_word(
    model: ToxicityModel, text: str, plain: str
) -> None:
    assert model.score(text) >= DEFAULT_NUDGE_THRESHOLD
    assert model.score(text) == pytest.approx(model.score(plain), abs=0.05)


def test_swearing_alone_is_nudged_and_attacks_are_held(model: ToxicityModel) -> None:
    """The policy's severity (severity.py): swearing at nobody sits between the thresholds,
    swearing at someone reaches the hold threshold (every score used to be 0.97 or more)."""
    mild = {text: model.score(text) for text in SWEARING_ONLY}
    attacks = {text: model.score(text) for text in SWEARING_AT_SOMEONE}
    assert all(DEFAULT_NUDGE_THRESHOLD <= s < DEFAULT_HOLD_THRESHOLD for s in mild.values()), mild
    assert all(s >= DEFAULT_HOLD_THRESHOLD for s in attacks.values()), attacks


@pytest.mark.parametrize("text", THIRD_PARTY)
def test_third_party_insults_and_group_contempt_are_held(model: ToxicityModel, text: str) -> None:
    assert model.score(text) >= DEFAULT_HOLD_THRESHOLD


@pytest.mark.parametrize("text", NICKNAMES)
def test_mocking_nicknames_are_nudged(model: ToxicityModel, text: str) -> None:
    assert model.score(text) >= DEFAULT_NUDGE_THRESHOLD


@pytest.mark.parametrize("text", STRONG_CIVIL)
def test_strong_civil_opinions_are_not_held(model: ToxicityModel, text: str) -> None:
    assert model.score(text) < DEFAULT_HOLD_THRESHOLD


@pytest.mark.parametrize("text", SHORT_HARMLESS)
def test_short_harmless_texts_are_not_nudged(model: ToxicityModel, text: str) -> None:
    assert model.score(text) < DEFAULT_NUDGE_THRESHOLD


# Civil sentences that name a group: religions, ethnicities, nationalities, sexual orientations,
# gender identities, disabilities. Public toxicity labels lean on such words; 69e4fbce1941 nudged
# 9 of these 40 ("The bill protects gay and lesbian teachers from being fired." 0.84). The ninth
# policy round (civil and contemptuous sentences about the same groups) was written after these
# and keeps them out of the data.
IDENTITY_PROBES = [
    "The transgender athlete won the race.",
    "Hate crimes against Muslims rose last year, the report says.",
    "Jewish leaders thanked the firefighters who saved the old synagogue.",
    "I am a proud Muslim and a nurse.",
    "Gay couples have been able to marry here since 2014.",
    "As a gay man, I found the article moving.",
    "The mosque on Elm Street hosts a food bank on Fridays.",
    "Black-owned businesses got a third of the new grants.",
    "My grandmother was a refugee from Hungary.",
    "The synagogue is raising money for the flood victims.",
    "Lesbian and gay veterans will march in the parade this year.",
    "The council hired its first deaf interpreter.",
    "Immigrants opened most of the new shops on the high street.",
    "A Sikh officer joined the county police last month.",
    "As a Black woman in engineering, I know how rare mentors are.",
    "The church and the mosque are sharing a car park during the works.",
    "Asian American students organised the lunar new year fair.",
    "Disabled residents asked for more ramps at the station.",
    "The Hindu temple invites everyone to the Diwali festival.",
    "Mexican immigrants built much of this town's railway.",
    "She is the first Muslim woman elected to the council.",
    "Trans teenagers told the board what the new policy means for them.",
    "The bill protects gay and lesbian teachers from being fired.",
    "Catholics and Protestants held a joint service for peace.",
    "The report found Black patients waited longer in the emergency room.",
    "I am Jewish and I support the ceasefire.",
    "The Somali community centre is offering free English lessons.",
    "Native American tribes will co-manage the national park.",
    "My wife is Chinese and our kids speak both languages.",
    "Older workers are being pushed out of the tech industry.",
    "Arab families have lived in this neighbourhood for a century.",
    "The museum opens an exhibit on the history of African Americans in the city.",
    "Atheists and believers alike signed the petition for the library.",
    "Polish workers kept the hospital kitchens running during the strike.",
    "The autistic boy who founded the chess club won a national prize.",
    "Our neighbours are a lovely lesbian couple with two dogs.",
    "Roma families say they were turned away from the campsite.",
    "The study compared the health of white and Hispanic women over 20 years.",
    "Ukrainian refugees found homes with families across the county.",
    "A bisexual author won this year's poetry prize.",
]

# Contempt for the same groups, also written apart from the data.
GROUP_CONTEMPT_PROBES = [
    "Muslims are a pestilence on this land.",
    "Gay people are filthy deviants.",
    "Jews are money-grubbing vermin.",
    "Trans people are sick perverts.",
    "Immigrants are leeches, the lot of them.",
    "Black people are violent savages.",
    "Refugees are vermin who should be drowned.",
    "Disabled people are useless burdens who should be culled.",
    "Mexicans are filthy animals.",
    "Lesbians are repulsive freaks.",
]

# Insults in slang the public data hardly has ("numpty", "pillock", "plonker"): 69e4fbce1941,
# whose lexicon did not list them, nudged 9 of these 20. They are listed kinds of insult now
# (lexicon.INSULT, PROFANE_INSULTS), whose weight the model learns from the other listed words.
SLANG_INSULT_PROBES = [
    "You complete numpty.",
    "What a pillock.",
    "Sit down, you plonker.",
    "Only a dingus would think the tram pays for itself.",
    "The councillor is a total wazzock.",
    "You absolute dunderhead, read the budget.",
    "Another lamebrain take from the usual birdbrain.",
    "Typical chucklehead comment.",
    "Listen here, fathead.",
    "The man is a gormless dullard.",
    "Nobody cares, you twerp.",
    "What a schmuck.",
    "You eejit, that's not what the judge said.",
    "Only a drongo would vote for that.",
    "He's a lummox and everyone knows it.",
    "Go away, you prat.",
    "Typical mouthbreather logic.",
    "The columnist is a sleazebag.",
    "You thicko, the bridge was built in 1890.",
    "Shut it, you knobhead.",
]
# every probe above: written to test the model, and kept out of all the data it learns from
ALL_PROBES = (
    PUTDOWN_WORD_PROBES
    + COMPLIMENT_PROBES
    + IDENTITY_PROBES
    + GROUP_CONTEMPT_PROBES
    + SLANG_INSULT_PROBES
)


@pytest.mark.parametrize("text", SHORT_INSULTS)
def test_short_insults_are_still_held(model: ToxicityModel, text: str) -> None:
    assert model.score(text) >= DEFAULT_HOLD_THRESHOLD


def _nudged_and_held(scores: dict[str, float]) -> tuple[list[str], list[str]]:
    nudged = sorted(t for t, s in scores.items() if s >= DEFAULT_NUDGE_THRESHOLD)
    held = sorted(t for t, s in scores.items() if s >= DEFAULT_HOLD_THRESHOLD)
    return nudged, held


def test_civil_texts_with_the_putdowns_words_are_rarely_nudged(model: ToxicityModel) -> None:
    """Model ``81d407ea9bcd`` nudged 12 of these 40 at its threshold (0.38) and held two ("Do
    your homework before you vote." 0.95, "You must be so proud of her." 0.96); the sixth policy
    round's hard negatives bring that to 6 nudged (at 0.37), none held; model fb58fee5d436 to 5,
    69e4fbce1941 (with the network, at 0.40) to 2; 71e15477a36e (ninth round, slang) nudges 3.
    Between training seeds the count moves by one or two (a draft of the ninth round: 3 and 4)."""
    scores = {text: model.score(text) for text in PUTDOWN_WORD_PROBES}
    nudged, held = _nudged_and_held(scores)
    assert not held
    assert len(nudged) <= 3, nudged
    for text in ("Take your time.", "Nobody told us the road was closing.", "You are wrong."):
        assert scores[text] < DEFAULT_NUDGE_THRESHOLD, (text, scores[text])


def test_kind_words_to_the_reader_are_rarely_nudged(model: ToxicityModel) -> None:
    """d1b5fb6aad4b nudged 31 of these 40; the seventh policy round brought it to 13, the
    network (69e4fbce1941) to 9, as 71e15477a36e does; the teacher-labelled posts
    (ebf7bf5676c6) nudge 10, at a nudge threshold of 0.42 instead of 0.40: one probe, within
    what another seed gives."""
    nudged, held = _nudged_and_held({text: model.score(text) for text in COMPLIMENT_PROBES})
    assert not held
    assert len(nudged) <= 10, nudged


def test_civil_sentences_that_name_a_group_are_rarely_nudged(model: ToxicityModel) -> None:
    """69e4fbce1941 nudged 9 of these 40; with the ninth policy round 71e15477a36e nudges none,
    but three sit just under the threshold (0.38): the bound allows what another seed gave (2)."""
    nudged, held = _nudged_and_held({text: model.score(text) for text in IDENTITY_PROBES})
    assert not held
    assert len(nudged) <= 2, nudged


def test_contempt_for_the_same_groups_is_still_held(model: ToxicityModel) -> None:
    """The other half of the ninth round: a group's name must not turn civil altogether. Every
    probe is nudged (posted anyway, it is held); 71e15477a36e held 9, one of them at the hold
    threshold itself ("… should be culled." 0.950), which ebf7bf5676c6 scores 0.86: 8 held."""
    nudged, held = _nudged_and_held({text: model.score(text) for text in GROUP_CONTEMPT_PROBES})
    assert len(nudged) == len(GROUP_CONTEMPT_PROBES), sorted(
        set(GROUP_CONTEMPT_PROBES) - set(nudged)
    )
    assert len(held) >= 8, held


def test_slang_insults_are_nudged(model: ToxicityModel) -> None:
    nudged, _ = _nudged_and_held({text: model.score(text) for text in SLANG_INSULT_PROBES})
    assert len(nudged) == len(SLANG_INSULT_PROBES), sorted(set(SLANG_INSULT_PROBES) - set(nudged))


def test_the_probes_are_not_in_the_policy_data() -> None:
    written = {
        text.strip().lower()
        for name in ("train/townhall_policy.csv", "test/townhall_policy_test.csv")
        for text in read_csv(DATA / name).texts
    }
    assert not [t for t in ALL_PROBES if t.lower() in written]


def test_no_teacher_labelled_post_holds_a_held_out_text_or_a_probe(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The teacher's posts are whole Civil Comments posts: one that holds a held-out sentence
    (``civil_test`` sentences were cut from such posts), an Impermium comment or a probe would
    put what the figures are measured on into training."""
    taught = read_csv(DATA / "train" / "civil_posts_teacher.csv")
    assert taught.targets is not None and len(set(taught.texts)) == len(taught) > 15_000
    assert np.array_equal(taught.labels, (taught.targets >= 0.5).astype(np.int64))
    if SHARED_SPLITS.is_dir():
        monkeypatch.setenv(EVAL_DIRS_ENV, str(SHARED_SPLITS))
    held_out = [t for split in held_out_splits(DATA) for t in split.texts]
    if (SHARED_SPLITS / "insults_train.csv").exists():  # the development split
        held_out += read_csv(SHARED_SPLITS / "insults_train.csv").texts
    assert not posts_containing(taught.texts, held_out + ALL_PROBES)


def test_the_fast_score_reads_the_same_features_as_training(model: ToxicityModel) -> None:
    """``logit`` takes shortcuts (per-word lexicon bits and n-grams remembered); it must add up
    what ``extract``, which training and explanations use, finds."""
    texts = (
        ABUSIVE
        + CIVIL
        + OBFUSCATED
        + SWEARING_ONLY
        + THIRD_PARTY
        + NICKNAMES
        + STRONG_CIVIL
        + SHORT_INSULTS
    )
    texts += [*SHORT_HARMLESS, "", "Crooked Hillary and Sleepy Joe, those vermin", "idiot " * 40]
    for text in texts * 2:  # the second round reads the remembered words
        reference = model._parts(extract(text, model.config))[0]
        assert model.logit(text) == pytest.approx(reference, abs=1e-9), text


def test_score_is_a_probability(model: ToxicityModel) -> None:
    for text in ["", "   ", "!!!", "a" * 20_000, "😀" * 50, "\x00\ufeff"]:
        assert 0.0 <= model.score(text) <= 1.0
        assert isinstance(model.explain(text), list)


def test_explanation_points_at_the_insult(model: ToxicityModel) -> None:
    text = "Honestly, the article is fine but you are an idiot."
    top = model.explain(text, top=3)
    assert top and all(isinstance(c, Contribution) for c in top)
    assert [c.weight for c in top] == sorted((c.weight for c in top), reverse=True)
    for c in top:
        assert text[c.start : c.end] == c.term
    assert "idiot" in top[0].term


def test_explanation_spans_cover_the_obfuscated_original(model: ToxicityModel) -> None:
    text = "Well that is total b*llsh!t, mate."
    top = model.explain(text, top=1)
    assert top[0].term == "b*llsh!t"
    assert (top[0].start, top[0].end) == (19, 27)


def test_explanation_of_group_contempt_names_the_phrase(model: ToxicityModel) -> None:
    text = "Honestly? Those people are vermin."
    terms = [c.term for c in model.explain(text, top=3)]
    assert any("vermin" in t for t in terms)


def _regression_only() -> ToxicityModel:
    """The shipped model without its network: the regression's weights as the file has them."""
    with np.load(DEFAULT_PATH, allow_pickle=False) as arrays:
        meta = json.loads(arrays["meta"].tobytes().decode("utf-8"))
        idf = arrays["idf"].astype(np.float64)
        weights = arrays["weights"].astype(np.float64)
        bias = float(arrays["bias"][0])
    return ToxicityModel(FeatureConfig(**meta["features"]), idf, weights, bias, meta, "regression")


def test_the_logit_is_the_regression_plus_the_network(model: ToxicityModel) -> None:
    regression = _regression_only()
    for text in ABUSIVE + CIVIL + THIRD_PARTY:
        own, network = model.logit_parts(text)
        assert own + network == pytest.approx(model.logit(text))
        assert own == pytest.approx(regression.logit(text))
        assert network != 0.0


def test_explanation_credits_each_word_with_the_networks_share(model: ToxicityModel) -> None:
    """explain adds the network's share of a word, found by occlusion (the logit without that
    word's vector in the mean), to the word's regression weight; a word without a vector gets
    none."""
    text = "You absolute muppet qqzzxq."
    assert "muppet" in model.vectors.index and "qqzzxq" not in model.vectors.index
    ours = {c.term: c.weight for c in model.explain(text, top=10)}
    theirs = {c.term: c.weight for c in _regression_only().explain(text, top=10)}
    assert ours["qqzzxq"] == pytest.approx(theirs["qqzzxq"])
    words = ["you", "absolute", "muppet", "qqzzxq"]
    lexicon = extract(text, model.config).lexicon
    evidence = model.config.evidence(len(words))

    def network_logit(used: list[str]) -> float:
        mean = model.vectors.mean(used) * (VECTOR_SCALE * evidence)
        return model.network.logit(np.concatenate((mean, lexicon)))

    share = network_logit(words) - network_logit(["you", "absolute", "qqzzxq"])
    assert share != pytest.approx(0.0, abs=1e-3)
    assert ours["muppet"] == pytest.approx(theirs["muppet"] + share)


def test_scores_agree_across_threads(model: ToxicityModel) -> None:
    texts = ABUSIVE + CIVIL + THIRD_PARTY
    expected = [model.score(t) for t in texts]
    results: list[list[float]] = []

    def work() -> None:
        results.append([model.score(t) for t in texts])

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [expected] * 4


def test_heldout_auc_does_not_drop(model: ToxicityModel, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = json.loads(METRICS.read_text(encoding="utf-8"))
    assert recorded["model_version"] == model.version
    if SHARED_SPLITS.is_dir() and not os.environ.get(EVAL_DIRS_ENV):
        monkeypatch.setenv(EVAL_DIRS_ENV, str(SHARED_SPLITS))
    report = evaluate(model, DATA)
    measured = report.auc()
    for split, auc in recorded["roc_auc"].items():
        if split not in measured:  # an eval-only split whose file is not on this machine
            continue
        assert measured[split] >= auc - 1e-4, f"{split}: {measured[split]:.4f} < {auc:.4f}"
    for split in ("civil_test", "davidson_test", "jigsaw_test", "townhall_policy_test"):
        assert split in measured


@pytest.mark.slow
@PINNABLE
def test_training_reproduces_the_shipped_file(tmp_path: Path) -> None:
    """Byte for byte, on any x86-64 CPU with AVX2: training runs with numpy's and OpenBLAS's
    kernels pinned (``kernels.py``). Without the pinning the network's fit is not the same model
    on another CPU (scores up to 0.55 apart between the AMD EPYC and the Intel Xeon kinds), so
    there is no tolerance to fall back on: a difference is a change to the data, the features,
    the training or the kernels, and the message says how far it moved the scores."""
    out = tmp_path / "toxicity.npz"
    args = ["train", "--data", str(DATA), "--model", str(out), "--no-metrics"]
    assert kernels.run_pinned(args) == 0
    if out.read_bytes() == DEFAULT_PATH.read_bytes():
        return
    shipped, trained = ToxicityModel.load(DEFAULT_PATH), ToxicityModel.load(out)
    moved = {
        corpus.name: max(abs(trained.score(t) - shipped.score(t)) for t in corpus.texts)
        for corpus in held_out_splits(DATA)
    }
    changed = sorted(k for k in shipped.meta if shipped.meta[k] != trained.meta.get(k))
    pytest.fail(f"retrain and commit the model: meta {changed} differ, scores moved by {moved}")


@PINNABLE
def test_training_runs_on_the_pinned_kernels_whatever_the_environment_asks(
    monkeypatch: pytest.MonkeyPatch, capfd: pytest.CaptureFixture[str]
) -> None:
    """numpy reads its kernels from the environment once, when it loads: ``train`` (and
    ``kernels``, which reports what ``train`` would run on) start a child with them pinned, and the
    child reads back what numpy and OpenBLAS chose."""
    from townhall.moderation.toxicity.__main__ import main

    for name, value in OTHER_KERNELS.items():
        monkeypatch.setenv(name, value)
    assert main(["kernels"]) == 0
    assert capfd.readouterr().out.strip() == f"kernels  pinned: {kernels.PINNED_KERNELS}"


@PINNABLE
def test_the_report_names_the_kernels_a_process_really_runs() -> None:
    probe = "from townhall.moderation.toxicity import kernels; print(kernels.describe())"
    environ = {**os.environ, **OTHER_KERNELS, "PYTHONPATH": str(ROOT)}
    done = subprocess.run(
        [sys.executable, "-c", probe], env=environ, capture_output=True, text=True, check=True
    )
    assert done.stdout.startswith("kernels  numpy X86_V2, OpenBLAS Sandybridge, 1 threads: not the")


def test_a_model_without_its_word_vectors_turns_the_check_off_not_the_site(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A table that does not match the model (an operator's edit, a half-finished upgrade): the
    toxicity check is skipped with a warning, and comments are still moderated by the rest."""
    from townhall.moderation.checks import toxicity as check
    from townhall.moderation.toxicity import model as model_module

    monkeypatch.setattr(model_module, "VECTORS_PATH", _another_table(tmp_path))
    default_model.cache_clear()
    check.load_model.cache_clear()
    try:
        with caplog.at_level("WARNING"):
            assert check.load_model() is None
        assert "retrain the model" in caplog.text
    finally:
        default_model.cache_clear()
        check.load_model.cache_clear()
