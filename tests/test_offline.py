"""The offline engine on the seeds (read by hand) and on hand-written labelled articles."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pipeline.models import Article, Label, Priority, ReasonCode, SpeakerKind
from pipeline.offline import OFFLINE_VERSION, analyse_offline, compute_signals, find_quotes
from pipeline.offline.label import calibration_digest
from pipeline.offline.model import weights_digest
from pipeline.inputs import article_id

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
FIXTURES = ROOT / "tests" / "fixtures" / "labelled" / "articles.jsonl"

named, role, anonymous, crowd = SpeakerKind.named, SpeakerKind.role, SpeakerKind.anonymous, SpeakerKind.crowd

# Every attributed statement in each seed, in order: (start of the quoted words, speaker, kind).
# Titles ("A Dance from Heaven"), scare quotes, catchphrases ("pickle me walnuts") and one-word
# fragments ("spiritual") are not statements and must not appear.
SEED_QUOTES = {
    "000_017d009fcb9ae1b1.txt": [
        ("He was tough, but that’s what made", "Derek", named),
        ("the purest dancers to ever grace", "Goodman", named),
        ("the heartbeat of ballroom dance itself", "Derek", named),
        ("The file was labeled simply", "one team member", role),
        ("This was our last dance together. Len taught me", "Derek", named),
        ("Watching this made me cry", "Bruno Tonioli", named),
        ("What a gift to us all", "Carrie Ann Inaba", named),
        ("Now that’s what I call a proper dance", "Len", named),
        ("a love letter to Len", "Fans", crowd),
        ("the most beautiful thing ever done", "Fans", crowd),
        ("I didn’t just cry", "One user", crowd),
        ("Derek just proved that art doesn’t die", "Another", crowd),
        ("Len was my teacher", "Derek", named),
        ("Oh, he’d probably say", "Derek", named),
        ("Keep dancing, my friends", "Len", named),
        ("a masterpiece of love, memory, and movement", "Fans", crowd),
    ],
    "001_6b2d5439dc92a053.txt": [
        ("a heartbeat trapped in light", "The technician", role),
        ("I didn’t even realize what I was looking at", "the archivist", role),
        ("She’s not dancing with him", "one observer", crowd),
        ("It wasn’t meant for broadcast", "a source close to the project", role),
        ("It’s not just dance", "one critic", role),
        ("It feels like they’re saying goodbye", "one fan", crowd),
        ("This isn’t choreography", "Another", crowd),
        ("a masterclass in emotional honesty", "Misty Copeland", named),
        ("Art like this doesn’t age", "Paula Abdul", named),
        ("I honestly didn’t know that recording still existed", "Derek Hough", named),
        ("Carrie Ann has always been one of the most soulful", "Derek Hough", named),
        ("Time disappears when you move from the heart", "Carrie Ann Inaba", named),
        ("We didn’t choreograph it to be perfect", "Derek", named),
    ],
    "002_5b5f8691c1bc7641.txt": [
        ("This wasn’t about fame", "one viewer", crowd),
        ("Keep it simple, keep it pure", "Len", named),
        ("That was perfection", "One of them", anonymous),
        ("Mark and I have shared so many moments", "Derek", named),
        ("Dance has always been our way of speaking", "Mark", named),
        ("I don’t even watch Dancing with the Stars", "One user", crowd),
        ("This wasn’t a performance", "Another", crowd),
        ("a masterclass in authenticity", "former DWTS contestants and professionals", crowd),
        ("a reminder of why this show matters", "former DWTS contestants and professionals", crowd),
        ("Sometimes the most powerful thing you can do", "Derek", named),
        ("Great dancers are not great", "Martha Graham", named),
    ],
}


def _article(text: str, source: str = "test") -> Article:
    return Article(
        article_id=article_id(text),
        text=text,
        title=None,
        url=None,
        published=None,
        source_path=source,
        record_id=None,
    )


def _seed(name: str) -> str:
    return (SEEDS / name).read_text(encoding="utf-8")


def _fixtures() -> list[dict]:
    return [json.loads(line) for line in FIXTURES.read_text(encoding="utf-8").splitlines() if line.strip()]


@pytest.mark.parametrize("name", ["000_017d009fcb9ae1b1.txt", "001_6b2d5439dc92a053.txt"])
def test_seed_is_likely_fabrication_on_a_realistic_feed(name: str) -> None:
    verdict = analyse_offline(_article(_seed(name), name), prior=0.05)
    assert verdict.label == Label.likely_fabrication
    assert verdict.confidence > 0.5
    assert ReasonCode.unverifiable_media in verdict.reasons
    assert ReasonCode.viral_metrics in verdict.reasons


def test_a_seed_without_evidence_in_its_text_is_not_labelled_on_its_wording() -> None:
    """The third seed's text shows no evidence (its template and the dead Len Goodman are the
    batch's to see): however likely its wording, the label is not likely_fabrication."""
    verdict = analyse_offline(_article(_seed("002_5b5f8691c1bc7641.txt")), prior=0.5)
    assert compute_signals(_seed("002_5b5f8691c1bc7641.txt"), 0.5).evidence == []
    assert verdict.label is Label.news


@pytest.mark.parametrize("name", sorted(SEED_QUOTES))
def test_probabilities_sum_to_one_and_confidence_is_the_labels(name: str) -> None:
    signals = compute_signals(_seed(name))
    verdict = analyse_offline(_article(_seed(name), name))
    assert abs(sum(signals.scores.values()) - 1) < 1e-4
    assert verdict.confidence == pytest.approx(signals.scores[verdict.label.value], abs=1e-4)


def test_the_prior_moves_the_posterior_and_the_label_follows() -> None:
    text = _seed("001_6b2d5439dc92a053.txt")
    low, high = (compute_signals(text, prior).scores[Label.likely_fabrication.value] for prior in (0.001, 0.5))
    assert low < 0.2 < 0.5 < high
    assert analyse_offline(_article(text), prior=0.001).label is not Label.likely_fabrication


_SENSATIONAL = (
    "💔 HEARTBREAKING 💔\n\nIn a stunning, emotional, breathtaking moment, {body}\n\n✨ Unforgettable ✨\n\n"
    "Within hours the story amassed millions of views and fans across the globe were left speechless! "
    "Social media exploded, and one thing is clear: it will never be the same. Not a dry eye anywhere!"
)


@pytest.mark.parametrize("record", [r for r in _fixtures() if r["label"] == "news"], ids=lambda r: r["id"])
def test_style_alone_never_makes_the_label(record: dict) -> None:
    restyled = _SENSATIONAL.format(body=record["text"])
    verdict = analyse_offline(_article(restyled, record["id"]))
    assert verdict.label is Label.news
    assert compute_signals(restyled).style_risk > compute_signals(record["text"]).style_risk + 0.3
    assert compute_signals(restyled).evidence == []


def test_without_evidence_no_probability_makes_a_fabrication() -> None:
    from pipeline.checks.verdict import decide_label

    probabilities = {"news": 0.1, "tribute": 0.05, "likely_fabrication": 0.85}
    assert decide_label(probabilities, []) is Label.news
    assert decide_label(probabilities, [ReasonCode.anonymous_sourcing]) is Label.likely_fabrication


TRIBUTES = Path(__file__).parent / "fixtures" / "tributes.jsonl"


@pytest.mark.parametrize(
    "record",
    [json.loads(line) for line in TRIBUTES.read_text(encoding="utf-8").splitlines() if line.strip()],
    ids=lambda r: r["id"],
)
def test_tribute_fixture(record: dict) -> None:
    """Hand-written tributes (obituaries, retirements, anniversaries, memorials) and news that
    mentions a death or a career in passing; none of them is in the fit's data."""
    assert analyse_offline(_article(record["text"], record["id"])).label.value == record["label"]


@pytest.mark.parametrize("name", sorted(SEED_QUOTES))
def test_seed_quotes_and_speakers(name: str) -> None:
    found = [(q.text, q.speaker, q.speaker_kind) for q in find_quotes(_seed(name))]
    assert len(found) == len(SEED_QUOTES[name]), [t[:40] for t, _, _ in found]
    for (text, speaker, kind), (prefix, expected_speaker, expected_kind) in zip(found, SEED_QUOTES[name], strict=True):
        assert text.startswith(prefix), (text[:60], prefix)
        assert (speaker, kind) == (expected_speaker, expected_kind), text[:60]


@pytest.mark.parametrize("name", sorted(SEED_QUOTES))
def test_quote_offsets_index_the_text(name: str) -> None:
    text = _seed(name)
    for quote in find_quotes(text):
        pieces = [text[span.start : span.end] for span in quote.spans]
        assert quote.text == " ".join(pieces)
        assert (quote.start, quote.end) == (quote.spans[0].start, quote.spans[-1].end)
        assert quote.verified


def test_split_quote_is_one_quote_with_two_spans() -> None:
    text = "“He was tough,” Derek once said, “but that’s what made his approval mean everything.”"
    (quote,) = find_quotes(text)
    assert [text[s.start : s.end] for s in quote.spans] == [
        "He was tough,",
        "but that’s what made his approval mean everything.",
    ]
    assert quote.text == "He was tough, but that’s what made his approval mean everything."
    assert (quote.start, quote.end) == (1, len(text) - 1)
    assert (quote.speaker, quote.speaker_kind, quote.cue) == ("Derek", named, "said")


def test_pronoun_resolves_to_the_nearest_named_person() -> None:
    text = (
        "Senator Maria Lopez spoke in Austin on Monday.\n\n"
        '"We will fund every school in this state," she said.\n\n'
        "''The budget is balanced,'' said Tom Reed, the state treasurer."
    )
    quotes = find_quotes(text)
    assert [(q.speaker, q.speaker_kind) for q in quotes] == [("Senator Maria Lopez", named), ("Tom Reed", named)]


def test_titles_scare_quotes_and_fragments_are_not_speech() -> None:
    text = (
        "She released a song titled “Moon Over Water” last year. Critics called the tour a “triumph.” "
        "His catchphrases — “pickle me walnuts” and “a ten from Len” — were famous."
    )
    assert find_quotes(text) == []


def test_quote_running_over_a_paragraph_break() -> None:
    text = "Mayor Ann Bell spoke on Monday.\n\n“We will rebuild the bridge.\n\n“And we will do it this year,” she said."
    (quote,) = find_quotes(text)
    assert [text[s.start : s.end] for s in quote.spans] == ["We will rebuild the bridge.", "And we will do it this year,"]
    assert (quote.speaker, quote.speaker_kind) == ("Mayor Ann Bell", named)


def test_role_and_crowd_speakers() -> None:
    text = (
        "“It was never meant for broadcast,” says a source close to the project.\n"
        "“I cried for an hour,” one user wrote.\n"
        "Fans called it “the best thing on television this year.”"
    )
    kinds = [(q.speaker, q.speaker_kind) for q in find_quotes(text)]
    assert kinds == [("a source close to the project", role), ("one user", crowd), ("Fans", crowd)]


def test_speaker_named_after_a_role_following_the_cue() -> None:
    text = (
        "The vote was close.\n\n"
        "“The way he has been acting is why he has no support,” said former Massachusetts congressman Barney Frank.\n\n"
        "“The department is committed to transparency,” said spokesman John Kirby, referring to his successor."
    )
    assert [(q.speaker, q.speaker_kind) for q in find_quotes(text)] == [("Barney Frank", named), ("John Kirby", named)]


def test_pronoun_refers_to_the_subject_of_the_last_sentence_naming_someone() -> None:
    text = (
        "Dan McLaughlin at the National Review agreed with Chris Matthews about the winner.\n\n"
        "“Pence succeeded with flying colors,” he wrote."
    )
    (quote,) = find_quotes(text)
    assert quote.speaker == "Dan McLaughlin"


@pytest.mark.parametrize("signature", ["” ― Carla Sanchez", "”― Carla Sanchez\u00a0"])
def test_quote_signed_with_a_dash(signature: str) -> None:
    text = f"Readers wrote in.\n“Trump must stop portraying Latinos as gangsters.{signature}\nMore follows."
    (quote,) = find_quotes(text)
    assert (quote.speaker, quote.speaker_kind) == ("Carla Sanchez", named)


def test_unattributed_paragraph_after_a_closed_quote_and_unclosed_stray_marks_are_left_out() -> None:
    text = (
        "“We will win this state,” Maria Lopez said on Monday.\n\n"
        "“And then we will win the next one, and the one after that.”\n\n"
        "The campaign moved on.\n\n"
        '"An excerpt of a filing that nobody in the article is said to have written down here.\n\n'
        "The end."
    )
    assert [quote.text for quote in find_quotes(text)] == ["We will win this state,"]


def test_participle_and_coordinated_cues_take_the_clause_subject() -> None:
    text = (
        "During the hearing, Mayor Jane Ortiz criticised the budget in Denver, saying, “We cannot keep cutting parks.”\n\n"
        "Tom Reyes released a statement saying, “The plan is sound and we will defend it.”\n\n"
        "Reyes did not name his rivals, but told the crowd, “Nobody works harder than this team.”"
    )
    assert [q.speaker for q in find_quotes(text)] == ["Mayor Jane Ortiz", "Tom Reyes", "Reyes"]


def test_an_aside_between_speaker_and_cue_is_not_the_speaker() -> None:
    text = (
        "Senator Maria Lopez, at a press conference on Monday, said, “The bill will pass this week.”\n\n"
        "Lopez, visibly tired, responded: “We have the votes and we will use them.”"
    )
    assert [q.speaker for q in find_quotes(text)] == ["Senator Maria Lopez", "Lopez"]


def test_names_with_accented_letters_sign_a_quote() -> None:
    text = "Readers wrote in.\n“The debate changed nothing for me at all.” ― José Muñoz\nMore follows."
    (quote,) = find_quotes(text)
    assert (quote.speaker, quote.speaker_kind) == ("José Muñoz", named)


def test_exclamations_and_quoted_sentences_are_speech() -> None:
    text = (
        "When Rubio thanked Miami, a man yelled “Stay there!”\n\n"
        "“We will win,” said Ann Bell, who runs the yard. “Things are moving in the right direction.”"
    )
    quotes = find_quotes(text)
    assert [q.text for q in quotes] == ["Stay there!", "We will win, Things are moving in the right direction."]
    assert quotes[1].speaker == "Ann Bell"


def test_split_quote_is_not_joined_through_the_writers_clause() -> None:
    text = "“He stands for the middle class,” Anderson said, adding that Sanders is “definitely the most trustworthy of them.”"
    quotes = find_quotes(text)
    assert quotes[0].text == "He stands for the middle class,"
    assert len(quotes[0].spans) == 1


@pytest.mark.parametrize("record", _fixtures(), ids=lambda r: r["id"])
def test_labelled_fixture(record: dict) -> None:
    verdict = analyse_offline(_article(record["text"], record["id"]))
    assert verdict.label.value == record["label"]
    assert 0.5 <= verdict.confidence <= 1


def test_fixtures_cover_every_label_three_times() -> None:
    counts = {label.value: 0 for label in Label}
    for record in _fixtures():
        counts[record["label"]] += 1
    assert min(counts.values()) >= 3


def test_signals_of_a_fabricated_tribute() -> None:
    signals = compute_signals(_seed("000_017d009fcb9ae1b1.txt"))
    assert signals.emoji_headings >= 5
    assert not signals.has_dateline
    assert signals.posthumous_attributions >= 2  # Len Goodman, dead, speaks and dances "later"
    assert signals.unverifiable_media >= 1
    assert signals.viral_metrics >= 2
    assert signals.quote_count == len(SEED_QUOTES["000_017d009fcb9ae1b1.txt"])
    assert signals.scores[Label.likely_fabrication.value] > 0.5
    assert abs(sum(signals.scores.values()) - 1) < 1e-3
    assert signals.style_risk > 0.5
    assert {ReasonCode.unverifiable_media, ReasonCode.posthumous_attribution} <= set(signals.evidence)


def test_signals_of_plain_news() -> None:
    news = next(r for r in _fixtures() if r["id"] == "news-storm")
    signals = compute_signals(news["text"])
    assert signals.has_dateline
    assert signals.posthumous_attributions == 0
    assert signals.emoji_headings == 0
    assert signals.unnamed_quote_share == 0
    assert signals.scores[Label.news.value] > 0.5


def test_seed_claims_flag_the_release_with_high_priority() -> None:
    claims = analyse_offline(_article(_seed("000_017d009fcb9ae1b1.txt"))).claims
    release = [c for c in claims if "releasing a never-before-seen performance" in c.event]
    assert release and release[0].priority == Priority.high
    assert ReasonCode.unverifiable_media in release[0].why
    assert release[0].who == "Derek Hough"


def test_a_claims_subject_is_a_person_by_full_name_not_a_first_word_or_a_place() -> None:
    text = (
        "Len Goodman, the judge, died in 2023.\n\n"
        "Clips of the unreleased video were posted on YouTube and reached 3 million views.\n\n"
        "The footage was discovered in a Los Angeles studio vault, according to an anonymous insider.\n\n"
        "Len released the video on Instagram in 2024, a source said."
    )
    subjects = {claim.event.split()[0]: claim.who for claim in analyse_offline(_article(text)).claims}
    assert subjects["Clips"] is None
    assert subjects["The"] is None
    assert subjects["Len"] == "Len Goodman"


def test_feelings_are_not_claims() -> None:
    assert analyse_offline(_article("I just love how this song makes me feel so alive.")).claims == []


def test_statistics_are_claims() -> None:
    text = "Unemployment fell to 4.1 percent last year, the lowest rate since 2001."
    assert analyse_offline(_article(text)).claims


def test_engine_is_deterministic_and_versioned() -> None:
    article = _article(_seed("001_6b2d5439dc92a053.txt"))
    assert analyse_offline(article) == analyse_offline(article)
    assert OFFLINE_VERSION.endswith(f"{weights_digest()}-{calibration_digest()}")


def test_weights_file_stays_small() -> None:
    assert (ROOT / "pipeline" / "data" / "offline_weights.json").stat().st_size < 300_000
