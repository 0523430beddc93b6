"""Quote verification: a verified quote is a quotation of the article, whole words, by its speaker."""

from __future__ import annotations

import re
import unicodedata
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.models import QuoteDraft, SpeakerKind
from pipeline.quotations import quotation_spans
from pipeline.inputs import normalise_text
from pipeline.checks.quotes import (
    CUTS_WORD,
    LONE_WORD,
    MAX_SPLIT_GAP,
    NARRATION,
    NOT_FOUND,
    NOT_QUOTED,
    REJECTION_REASONS,
    STITCHED,
    locate_quote,
    verify_quotes,
)

SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def seed_text(prefix: str) -> str:
    [path] = SEEDS.glob(f"{prefix}_*.txt")
    return normalise_text(path.read_text(encoding="utf-8"))


def draft(text: str, speaker: str = "Derek Hough", kind: SpeakerKind = SpeakerKind.named) -> QuoteDraft:
    return QuoteDraft(speaker=speaker, speaker_kind=kind, text=text, cue="said", channel=None)


def found(text: str, quote: str) -> list[str] | None:
    spans = locate_quote(text, quote)
    return None if spans is None else [text[span.start : span.end] for span in spans]


def reason(text: str, quote: str, speaker: str = "Derek Hough") -> str | None:
    verified, rejected = verify_quotes(text, [draft(quote, speaker)])
    assert len(verified) + len(rejected) == 1
    return rejected[0].reason if rejected else None


def speaker_verified(text: str, quote: str, speaker: str, kind: SpeakerKind = SpeakerKind.named) -> bool:
    [verified], _ = verify_quotes(text, [draft(quote, speaker, kind)])
    return verified.speaker_verified


# --- inside quotation marks, whole words --------------------------------------------------


def test_a_quotation_verifies_at_its_offsets() -> None:
    text = "Intro. “Keep dancing, my friends.” Outro."
    [span] = locate_quote(text, "Keep dancing, my friends.")
    assert text[span.start : span.end] == "Keep dancing, my friends."


def test_narration_outside_quotation_marks_is_rejected() -> None:
    text = "Derek Hough wept on stage. “It was real,” he said."
    assert reason(text, "Derek Hough wept on stage") == NOT_QUOTED


@pytest.mark.parametrize("quote", ["the", "a", "was"])
def test_a_lone_common_or_short_word_of_a_longer_quotation_is_rejected(quote: str) -> None:
    text = "“It was a great night, the best of the year,” she said."
    assert reason(text, quote) == LONE_WORD


def test_a_one_word_quotation_verifies_as_a_whole() -> None:
    assert reason("“No,” she said.", "No") is None
    assert reason("He called it “unprecedented” twice.", "unprecedented") is None


def test_a_long_word_from_a_longer_quotation_is_a_partial_quote() -> None:
    assert reason("“It was an extraordinary night,” she said.", "extraordinary") is None


def test_a_fragment_cut_inside_a_word_is_rejected() -> None:
    text = "“Derek Hough is the best,” said Len."
    assert reason(text, "rek Hou") == CUTS_WORD
    assert reason(text, "Hough is the b") == CUTS_WORD


def test_appended_narration_after_the_closing_mark_is_rejected() -> None:
    text = "“We won the final,” Smith told reporters on Monday."
    assert reason(text, "We won the final,” Smith told reporters", "Smith") == NARRATION
    assert reason(text, "We won the final, Smith told reporters", "Smith") == NARRATION


def test_a_partial_quote_inside_a_quotation_verifies() -> None:
    assert found("“We won the final tonight,” Smith said.", "won the final") == ["won the final"]


@pytest.mark.parametrize(
    "quote",
    [
        "I didn't just cry - I felt like I was watching heaven open",  # straight apostrophe, hyphen
        '"I didn’t just cry — I felt like I was watching heaven open"',  # surrounding straight quotes
        "  “I didn’t just cry – I felt like I was watching heaven open.”  ",  # curly quotes, en dash
        "I didn't just cry -- I felt".replace("--", "−"),  # minus sign for the dash
    ],
)
def test_typographic_differences_are_ignored(quote: str) -> None:
    text = "A fan wrote: “I didn’t just cry — I felt like I was watching heaven open.”"
    [piece] = found(text, quote)
    assert piece.startswith("I didn’t just cry — I felt")


def test_ellipsis_character_and_three_dots_match_each_other() -> None:
    text = "“Len was our anchor, and Derek… you gave him the farewell he deserved.”"
    assert found(text, "and Derek... you gave him") == ["and Derek… you gave him"]
    assert found("“He paused... then spoke.”", "paused… then") == ["paused... then"]


def test_whitespace_line_breaks_case_and_composition() -> None:
    text = "She said “we were just  saying thank you” to all."
    assert found(text, "we were just\nsaying   thank you") == ["we were just  saying thank you"]
    assert found("“Keep dancing, my friends.”", "keep dancing, my friends") is None
    assert found(normalise_text("“Café society,” she said."), unicodedata.normalize("NFD", "Café society")) == ["Café society"]


def test_empty_or_punctuation_only_quotes_do_not_verify() -> None:
    assert reason("Some “text”.", "  “” ") == NOT_FOUND
    assert reason("Some text.", "") == NOT_FOUND


@pytest.mark.parametrize(
    "quote",
    [
        "He was tough, and that’s what made his approval mean everything.",  # one word changed
        "He was very tough,",  # a word added
        "that’s what made his approval mean absolutely everything",  # a word added later on
        "Len would have wanted this on the main stage.",  # invented
    ],
)
def test_near_misses_and_inventions_do_not_verify(quote: str) -> None:
    assert locate_quote(seed_text("000"), quote) is None


def test_every_reason_is_a_short_fixed_phrase() -> None:
    assert len(set(REJECTION_REASONS)) == len(REJECTION_REASONS)
    assert all(len(phrase) <= 40 and phrase == phrase.lower() for phrase in REJECTION_REASONS)


# --- split quotes and stitching ------------------------------------------------------------


def test_a_genuine_split_quote_verifies_piece_by_piece() -> None:
    text = "“Honestly,” he added, “the fans deserve better.”"
    assert found(text, "Honestly, the fans deserve better.") == ["Honestly,", "the fans deserve better."]
    assert found(text, "Honestly the fans deserve better") == ["Honestly,", "the fans deserve better"]
    assert found(text, "Honestly,” “the fans deserve") == ["Honestly,", "the fans deserve"]


def test_a_split_quote_over_three_pieces() -> None:
    text = "“We laughed,” he said, “we fought,” he added, “and we grew together.”"
    assert found(text, "We laughed, we fought, and we grew together") == [
        "We laughed,",
        "we fought,",
        "and we grew together",
    ]


def test_the_seed_split_quote_joined_by_the_model() -> None:
    text = seed_text("000")
    quote = "He was tough, but that's what made his approval mean everything. When Len said you did well, you felt it."
    assert found(text, quote) == [
        "He was tough,",
        "but that’s what made his approval mean everything. When Len said you did well, you felt it.",
    ]


def test_quotations_of_two_speakers_joined_are_stitched() -> None:
    text = "“We won the final,” said Smith. “They were lucky tonight,” said Jones."
    assert reason(text, "We won the final, They were lucky tonight", "Smith") == STITCHED
    assert reason(text, "We won the final... They were lucky tonight", "Smith") == STITCHED
    coordinated = "Smith said, “We won the final,” and Jones replied, “they were lucky tonight.”"
    assert reason(coordinated, "We won the final, they were lucky tonight", "Smith") == STITCHED


@pytest.mark.parametrize(
    "text",
    [
        "“We won the final,” said Smith. “They were lucky tonight,” Jones added.",
        "“We won the final,” Smith said, “They were lucky tonight,” Jones said.",
        "“We won the final,” said Mr. Smith. “They were lucky tonight,” she added.",
        "“We won the final,” said Mrs. Smith. “They were lucky tonight,” he added.",
        "Maria Lopez watched. “We won the final,” said John Smith. “They were lucky tonight,” she added.",
        "“We won the final,” Smith told Jones. “They were lucky tonight,” he replied.",
    ],
)
def test_two_attributions_naming_or_pointing_to_different_people_are_stitched(text: str) -> None:
    assert reason(text, "We won the final, They were lucky tonight", "Smith") == STITCHED


@pytest.mark.parametrize(
    "text",
    [
        "“We won the final,” said Mr. Smith. “They were lucky tonight,” he added.",
        "“We won the final,” she said. “They were lucky tonight,” she added.",
    ],
)
def test_two_attributions_of_one_person_join(text: str) -> None:
    assert found(text, "We won the final, They were lucky tonight") == ["We won the final,", "They were lucky tonight"]


def test_quotations_from_different_paragraphs_are_stitched() -> None:
    text = "“We won the final,” Smith said.\nLater on, the coach spoke.\n“They were lucky tonight,” he said."
    assert reason(text, "We won the final, They were lucky tonight", "Smith") == STITCHED


def test_pieces_must_be_in_order_and_the_gap_bounded() -> None:
    text = "“He was tough,” Derek said, “but that’s fair.”"
    assert reason(text, "but that’s fair. He was tough,") == STITCHED
    far = "“He was tough,” Derek said " + "at length " * (MAX_SPLIT_GAP // 10) + ", “but that’s fair.”"
    assert reason(far, "He was tough, but that’s fair.") == STITCHED


def test_a_quotation_over_paragraphs_verifies_across_them() -> None:
    text = "Derek Hough wrote:\n“The first night was hard.\n“The second was harder,” he said."
    assert found(text, "The first night was hard. The second was harder") == [
        "The first night was hard.",
        "The second was harder",
    ]


# --- the speaker ---------------------------------------------------------------------------

ARTICLE = (
    "Derek Hough and Len Goodman danced together for years.\n"
    "“He was tough,” Derek once said, “but that’s what made his approval mean everything.”\n"
    "Goodman often referred to Hough as one of “the purest dancers to ever grace the ballroom.”\n"
    "Asked about the tour, he smiled. “We will be back next year,” he said.\n"
    "“It was something they did for themselves,” says a source close to the project.\n"
    "Fans were moved. “I cried all night,” one fan wrote.\n"
    "Mrs. Ann Bell, the mayor, spoke last. “This city will remember,” she said."
)


@pytest.mark.parametrize(
    ("quote", "speaker", "kind", "expected"),
    [
        ("He was tough", "Derek Hough", SpeakerKind.named, True),  # first name tied to the full name
        ("He was tough", "Hough", SpeakerKind.named, True),
        ("He was tough", "Len Goodman", SpeakerKind.named, False),  # swapped to another person named
        ("the purest dancers to ever grace the ballroom.", "Len Goodman", SpeakerKind.named, True),
        ("the purest dancers to ever grace the ballroom.", "Derek Hough", SpeakerKind.named, False),
        ("We will be back next year", "Len Goodman", SpeakerKind.named, True),  # he: nearest antecedent
        ("We will be back next year", "Derek Hough", SpeakerKind.named, False),
        ("It was something they did for themselves", "a source close to the project", SpeakerKind.role, True),
        ("It was something they did for themselves", "Derek Hough", SpeakerKind.named, False),
        ("I cried all night", "one fan", SpeakerKind.crowd, True),
        ("I cried all night", "a dancer", SpeakerKind.role, False),
        ("This city will remember", "Ann Bell", SpeakerKind.named, True),
        ("This city will remember", "Len Goodman", SpeakerKind.named, False),
    ],
)
def test_the_attribution_must_name_the_speaker(quote: str, speaker: str, kind: SpeakerKind, expected: bool) -> None:
    assert speaker_verified(ARTICLE, quote, speaker, kind) is expected


def test_a_colon_or_block_quotation_takes_its_attribution_from_the_sentence_before() -> None:
    text = "Len Goodman smiled.\nIn his caption, Derek Hough wrote:\n“Keep dancing, my friends.”"
    assert speaker_verified(text, "Keep dancing, my friends.", "Derek Hough")
    assert not speaker_verified(text, "Keep dancing, my friends.", "Len Goodman")


@pytest.mark.parametrize("prefix", ["000", "001", "002"])
def test_every_seed_quote_of_the_offline_engine_verifies_with_its_speaker(prefix: str) -> None:
    from pipeline.offline import find_quotes

    text = seed_text(prefix)
    quotes = find_quotes(text)
    drafts = [draft(q.text, q.speaker, q.speaker_kind) for q in quotes]
    verified, rejected = verify_quotes(text, drafts)
    assert rejected == [] and len(verified) == len(quotes) > 5
    assert all(quote.speaker_verified for quote in verified), [q.speaker for q in verified if not q.speaker_verified]


# --- verify_quotes -------------------------------------------------------------------------


def test_verify_quotes_stores_the_articles_own_characters_and_rejects_with_reasons() -> None:
    text = seed_text("000")
    joined = draft("He was tough, but that's what made his approval mean everything.", "Derek")
    invented = draft("Len would have wanted this on the main stage.")
    verified, rejected = verify_quotes(text, [joined, invented])
    [split_quote] = verified
    assert split_quote.text == "He was tough, but that’s what made his approval mean everything."
    assert (split_quote.start, split_quote.end) == (split_quote.spans[0].start, split_quote.spans[-1].end)
    assert split_quote.verified and split_quote.speaker_verified
    [missing] = rejected
    assert missing.text == invented.text and missing.reason == NOT_FOUND


def test_verify_quotes_drops_duplicates_and_accepts_an_already_verified_quote() -> None:
    text = "“Now that’s what I call a proper dance,” Derek Hough said."
    verified, rejected = verify_quotes(
        text, [draft("Now that's what I call a proper dance"), draft("“Now that’s what I call a proper dance")]
    )
    assert len(verified) == 1 and rejected == []
    [again], _ = verify_quotes(text, verified)
    assert again == verified[0]


def test_a_long_adversarial_article_verifies_in_bounded_time() -> None:
    import time

    text = ("“a b,” he said, " * 20_000) + "“the end of it,” Derek Hough said."
    began = time.perf_counter()
    verified, rejected = verify_quotes(text, [draft("the end of it"), draft("a b, a b, a b, x")])
    assert time.perf_counter() - began < 20
    assert len(verified) == 1 and rejected[0].reason in REJECTION_REASONS


# --- properties ----------------------------------------------------------------------------

WORDS = st.sampled_from(["ab", "ba", "a", "bab", "the", "Derek"])
PHRASE = st.lists(WORDS, min_size=1, max_size=4).map(" ".join)
JOINER = st.sampled_from([",” he said, “", "” and “", " ", ", ", ".” She added: “", "”. “", ". ", "”\n“"])
WORD_CHAR = re.compile(r"\w")


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(PHRASE, JOINER), min_size=1, max_size=6), st.data())
def test_verified_pieces_sit_inside_quotations_on_word_boundaries(parts: list[tuple[str, str]], data: st.DataObject) -> None:
    text = "Derek said: “" + "".join(words + joiner for words, joiner in parts) + "”"
    first = data.draw(st.integers(0, len(parts) - 1))
    last = data.draw(st.integers(first, len(parts) - 1))
    quote = data.draw(st.sampled_from([" ", ", ", ". "])).join(words for words, _ in parts[first : last + 1])
    start = data.draw(st.integers(0, len(quote)))
    quote = data.draw(st.sampled_from([quote, quote[start:], quote + " a", "Derek said"]))
    spans = quotation_spans(text)
    verified, rejected = verify_quotes(text, [draft(quote)])
    for quote_found in verified:
        assert quote_found.text == " ".join(text[s.start : s.end] for s in quote_found.spans)
        for piece in quote_found.spans:
            assert any(q.start <= piece.start < piece.end <= q.end for q in spans)
            assert not (piece.start and WORD_CHAR.match(text[piece.start - 1]) and WORD_CHAR.match(text[piece.start]))
            assert not (piece.end < len(text) and WORD_CHAR.match(text[piece.end - 1]) and WORD_CHAR.match(text[piece.end]))
        [again], _ = verify_quotes(text, [quote_found])
        assert again.spans == quote_found.spans
    assert all(rejection.reason in REJECTION_REASONS for rejection in rejected)
