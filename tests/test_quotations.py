"""The quotation-span scanner every stage shares (issue 11)."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.quotations import QuotationSpan, quotation_spans, span_at
from pipeline.text import paragraphs


def quoted(text: str) -> list[str]:
    return [text[span.start : span.end] for span in quotation_spans(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "“Honestly,” he added, “the fans deserve better.”",
            ["Honestly,", "the fans deserve better."],
        ),
        ('"He was tough," Derek said, "but fair."', ["He was tough,", "but fair."]),
        ("''Wire style,'' said Mr. Hedge. ''Next.''", ["Wire style,", "Next."]),
        ("``Opening ticks,'' he said.", ["Opening ticks,"]),
        ("« Bonjour », dit-il.", ["Bonjour"]),
        ("„Guten Tag“, sagte er.", ["Guten Tag"]),
        ("‘British style,’ she said.", ["British style,"]),
        ('Mixed marks: "half curly,” he said.', ["half curly,"]),
    ],
)
def test_marks_of_every_style_make_quotations(text: str, expected: list[str]) -> None:
    assert quoted(text) == expected


def test_nested_quotations_belong_to_the_outer_one() -> None:
    text = 'He said “I told her ‘no’ twice and "never" again,” and left.'
    assert quoted(text) == ['I told her ‘no’ twice and "never" again,']


def test_apostrophes_are_not_marks() -> None:
    text = "The players’ union, the ’90s, ‘90s kids and don’t: none is quoted. ‘Only this,’ she said."
    assert quoted(text) == ["Only this,"]


def test_the_narration_between_two_quotations_is_not_quoted() -> None:
    text = "“We won,” Smith told reporters on Monday, “and we will win again.”"
    spans = quotation_spans(text)
    assert [text[s.start : s.end] for s in spans] == [
        "We won,",
        "and we will win again.",
    ]
    assert span_at(spans, text.index("reporters")) is None
    assert span_at(spans, text.index("win again")) == spans[1]


def test_offsets_with_and_without_marks() -> None:
    text = "She said: “ Yes. ”"
    (span,) = quotation_spans(text)
    assert span == QuotationSpan(index=1, start=12, end=16, open_at=10, close_end=18, paragraph=0, closed=True)
    assert text[span.open_at : span.close_end] == "“ Yes. ”"


def test_a_quotation_over_paragraphs_continues_piece_by_piece() -> None:
    text = "“The first paragraph of it.\n\n“The second,” she said.\nLater “a new one.”"
    spans = quotation_spans(text)
    assert [text[s.start : s.end] for s in spans] == [
        "The first paragraph of it.",
        "The second,",
        "a new one.",
    ]
    assert [(s.index, s.paragraph, s.closed, s.continues) for s in spans] == [
        (1, 0, False, None),
        (2, 1, True, 1),
        (3, 2, True, None),
    ]


def test_an_unclosed_mark_ends_at_its_paragraph_and_pairs_with_nothing_after() -> None:
    text = "“Never closed, he said.\nThe next paragraph is narration.\nAnd “this” is quoted."
    spans = quotation_spans(text)
    assert [text[s.start : s.end] for s in spans] == ["Never closed, he said.", "this"]
    assert not spans[0].closed and spans[1].continues is None


def test_an_opening_mark_cuts_off_an_unclosed_quotation() -> None:
    text = '"Hello, he said, "world," she said.'
    spans = quotation_spans(text)
    assert [text[s.start : s.end] for s in spans] == ["Hello, he said,", "world,"]
    assert [s.closed for s in spans] == [False, True]


def test_stray_closing_marks_and_inch_marks_open_nothing() -> None:
    assert quoted('A 6" pipe” and then a "real quote" here.') == ["real quote"]


def test_paragraphs_are_the_non_blank_lines() -> None:
    assert paragraphs("one\n\n  \ntwo\n") == [(0, 3), (8, 11)]


def test_the_scan_is_linear_on_adversarial_text() -> None:
    def seconds(size: int) -> float:
        text = ("“‘a ’" * size) + ('"x ' * size) + ("‘" * size)
        began = time.perf_counter()
        quotation_spans(text)
        return time.perf_counter() - began

    small, large = seconds(5_000), seconds(50_000)
    # Ten times the text in well under a hundred times the time: no quadratic step.
    assert large < 30 * max(small, 1e-3)


WORD = st.text(alphabet="abcdefg", min_size=1, max_size=6)
NARRATION = st.lists(WORD, min_size=1, max_size=5).map(" ".join)
OPEN_CLOSE = st.sampled_from([("“", "”"), ('"', '"'), ("''", "''"), ("«", "»")])


@st.composite
def article_with_quotations(draw: st.DrawFn) -> tuple[str, list[str]]:
    """Paragraphs of narration and quotations with the quoted words known."""
    parts: list[str] = []
    expected: list[str] = []
    for paragraph in range(draw(st.integers(1, 4))):
        if paragraph:
            parts.append("\n")
        for position in range(draw(st.integers(1, 4))):
            if position:
                parts.append(" ")
            if draw(st.booleans()):
                words = draw(st.lists(WORD, min_size=1, max_size=6).map(" ".join)) + draw(st.sampled_from(["", ",", ".", "!"]))
                opening, closing = draw(OPEN_CLOSE)
                parts.append(f"{opening}{words}{closing}")
                expected.append(words)
            else:
                parts.append(draw(NARRATION) + draw(st.sampled_from(["", ",", "."])))
    return "".join(parts), expected


@settings(max_examples=150, deadline=None)
@given(article_with_quotations())
def test_every_quotation_is_found_and_nothing_else(case: tuple[str, list[str]]) -> None:
    text, expected = case
    assert quoted(text) == expected


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet="ab ,.\n“”‘’\"'«»„`", max_size=80))
def test_spans_are_ordered_disjoint_and_inside_one_paragraph(text: str) -> None:
    spans = quotation_spans(text)
    assert [s.index for s in spans] == list(range(1, len(spans) + 1))
    previous_end = 0
    for span in spans:
        assert previous_end <= span.open_at < span.start < span.end <= span.close_end
        assert "\n" not in text[span.open_at : span.close_end]
        assert text[span.start : span.end] == text[span.start : span.end].strip()
        assert span.continues is None or span.continues < span.index
        previous_end = span.close_end
