"""Quote finding and attribution by rule.

Quoted segments are read from the quote marks themselves (typographic, straight and the
doubled apostrophes some wires use), then each is typed (speech, title, scare quote,
catchphrase) and attributed from its cue: a speech verb after the quote (", he said",
", said former congressman Barney Frank"), before it ("Mook told CBS, "), a dash signature
("” ― Carla Sanchez"), a colon-ended lead-in paragraph, or the quote it continues. A whole
quoted sentence or an exclamation is speech even without a cue; a few lower-case words borrowed
mid-sentence are a scare quote. Pronouns are resolved to the person who last spoke, else to the
subject of the latest sentence naming someone, skipping names whose title says the other gender.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from pipeline.checks.attribution import article_links
from pipeline.models import QuoteDraft, SpeakerKind, VerifiedQuote
from pipeline.offline.coreference import PersonIndex
from pipeline.offline.cues import (
    Attribution,
    context_attribution,
    post_attribution,
    pre_attribution,
)
from pipeline.offline.lexicon import CATCHPHRASE_LEAD, TITLE_LEAD, TITLE_SMALL_WORDS
from pipeline.parsed import ParsedArticle, parsed
from pipeline.quotations import QuotationSpan
from pipeline.text import sentence_end, sentence_start
from pipeline.checks.quotes import verify_quotes

__all__ = ["QuoteKind", "QuoteFinding", "scan_quotes", "find_quotes"]


class QuoteKind:
    speech = "speech"
    title = "title"
    scare = "scare"
    catchphrase = "catchphrase"


@dataclass
class QuoteFinding:
    """One quoted passage with everything the rules learnt about it."""

    spans: list[tuple[int, int]]
    kind: str
    embedded: bool
    speaker: str | None = None
    speaker_kind: SpeakerKind = SpeakerKind.anonymous
    cue: str | None = None
    channel: str | None = None
    mark_spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


_MIN_UNATTRIBUTED_WORDS = 5


_MIN_EMBEDDED_WORDS = 4


_MIN_STATEMENT_WORDS = 3


_STATEMENT_ENDS = frozenset(".!?,")


def _kind_without_cue(text: str, seg: QuotationSpan, lead: str, whole_paragraph: bool) -> str:
    inner = text[seg.start : seg.end]
    words = inner.split()
    if CATCHPHRASE_LEAD.search(lead):
        return QuoteKind.catchphrase
    if TITLE_LEAD.search(lead) or _looks_like_title(words) and not whole_paragraph:
        return QuoteKind.title
    if whole_paragraph or len(words) >= _MIN_UNATTRIBUTED_WORDS and re.search(r"[:]\s*$", lead):
        return QuoteKind.speech
    if _is_statement(inner, words) and (not lead.strip() or re.search(r"[,:]\s*$", lead)):
        return QuoteKind.speech
    return QuoteKind.scare


def _is_statement(inner: str, words: list[str]) -> bool:
    """A whole sentence in quotation marks, capitalised and closed by its own punctuation:
    someone's words, where a scare quote is a phrase borrowed mid-sentence; a phrase with
    every word capitalised is a heading or a name."""
    return (
        len(words) >= _MIN_STATEMENT_WORDS
        and inner[:1].isupper()
        and inner.rstrip("”’'\" ")[-1:] in _STATEMENT_ENDS
        and any(word[:1].islower() for word in words)
    )


def _looks_like_title(words: list[str]) -> bool:
    content = [w for w in words if w.lower() not in TITLE_SMALL_WORDS]
    return (
        0 < len(words) <= 9
        and bool(content)
        and all(w[:1].isupper() or w[:1] in "#0123456789" for w in content)
        and not words[-1].endswith((".", "!", "?", ","))
    )


def scan_quotes(text: str | ParsedArticle) -> list[QuoteFinding]:
    """Every quoted passage in the article, typed and, for speech, attributed."""
    return _Scan(parsed(text)).findings


_Typed = tuple[bool, Attribution | None]
"""Whether a finding is settled, else the attribution that stands for it."""


@dataclass
class _Around:
    """What surrounds one quotation (a chain of them, for one running over paragraphs)."""

    first: QuotationSpan
    last: QuotationSpan
    lower: int
    lead_start: int
    lead: str
    tail: str
    following: int
    whole_paragraph: bool


class _Scan:
    """One pass over an article's quotations, in order, each typed and attributed."""

    def __init__(self, article: ParsedArticle) -> None:
        self.text = article.text
        self.segments = article.quotations
        self.links = article_links(article)
        self.paragraph_spans = article.paragraphs
        self.persons = PersonIndex(article)
        self.findings: list[QuoteFinding] = []
        self.previous_speech: QuoteFinding | None = None
        self.index = 0
        while self.index < len(self.segments):
            self._read(self.segments[self.index])
            self.index += 1

    def _read(self, seg: QuotationSpan) -> None:
        finding = QuoteFinding(spans=[(seg.start, seg.end)], kind=QuoteKind.speech, embedded=False)
        finding.mark_spans = [(seg.open_at, seg.close_end)]
        around = self._around(seg, finding)
        text = self.text
        pre, embedded = pre_attribution(text, around.lower, seg.open_at)
        introduced = pre is not None and pre.speaker is not None and not embedded
        post = post_attribution(text, around.last, around.following) if around.last.closed and not introduced else None
        if post:
            pre, embedded = None, False
        finding.embedded = embedded or bool(post is None and re.match(r"\s*[a-z(]", around.tail))
        settled, attribution = self._typed(finding, around, post or pre)
        if settled:
            return
        inner_words = text[seg.start : seg.end].split()
        if finding.embedded:
            finding.kind = _fragment_or(finding.kind, inner_words)
        if finding.kind != QuoteKind.speech and attribution is not None and attribution.speaker is not None:
            _apply(finding, attribution, self.persons)
        if finding.kind == QuoteKind.speech and not around.last.closed and (attribution is None or attribution.speaker is None):
            # A mark opened and never closed, with nobody named: more often an excerpt or a
            # stray mark than someone's words.
            return
        if finding.kind == QuoteKind.speech:
            if attribution is None or attribution.speaker is None:
                finding.speaker_kind = SpeakerKind.anonymous
                finding.cue = attribution.cue if attribution else None
            else:
                _apply(finding, attribution, self.persons)
            if post:
                self._split_after_cue(finding, post, around.last)
            self.previous_speech = finding
        self.findings.append(finding)

    def _around(self, seg: QuotationSpan, finding: QuoteFinding) -> _Around:
        """The context of ``seg``, first taking in the paragraphs a quotation left open runs on into."""
        segments, index, text = self.segments, self.index, self.text
        p_start, _ = self.paragraph_spans[seg.paragraph]
        lower = segments[index - 1].close_end if index and segments[index - 1].paragraph == seg.paragraph else p_start
        last = seg
        while not last.closed and self.index + 1 < len(segments) and segments[self.index + 1].continues == last.index:
            self.index += 1
            last = segments[self.index]
            finding.spans.append((last.start, last.end))
            finding.mark_spans.append((last.open_at, last.close_end))
        following = _next_open(segments, self.index, self.paragraph_spans)
        lead_start = sentence_start(text, lower, seg.open_at)
        lead = text[lead_start : seg.open_at]
        tail_end = sentence_end(text, last.close_end, following) if last.closed else last.close_end
        tail = text[last.close_end : tail_end]
        whole_paragraph = not lead.strip() and seg.open_at == p_start and not tail.strip()
        return _Around(seg, last, lower, lead_start, lead, tail, following, whole_paragraph)

    def _typed(self, finding: QuoteFinding, around: _Around, attribution: Attribution | None) -> _Typed:
        """Set the finding's kind; whether the finding is settled here (a list item of the
        quote before, or speech going on with it), else the attribution that stands."""
        lead, inner_words = around.lead, self.text[around.first.start : around.first.end].split()
        sibling = _same_sentence_sibling(self.text, self.findings, around.lead_start, around.first.open_at)
        if CATCHPHRASE_LEAD.search(lead):
            finding.kind = QuoteKind.catchphrase
            return False, None
        if (
            finding.embedded
            and (TITLE_LEAD.search(lead) or _looks_like_title(inner_words))
            or (TITLE_LEAD.search(lead) and not re.search(r"[,:]\s*$", lead))
        ):
            finding.kind = QuoteKind.title
            return False, None
        if sibling is not None and attribution is None:
            finding.kind = _fragment_or(QuoteKind.speech if sibling.kind == QuoteKind.scare else sibling.kind, inner_words)
            _speak_on(finding, sibling)
            finding.embedded = True
            self.findings.append(finding)
            return True, None
        if attribution is not None:
            return False, attribution
        finding.kind = _kind_without_cue(self.text, around.first, lead, around.whole_paragraph)
        if finding.kind != QuoteKind.speech:
            return False, None
        return self._speech_without_cue(finding, around)

    def _speech_without_cue(self, finding: QuoteFinding, around: _Around) -> _Typed:
        """Speech with no cue of its own: more of the quote before it (one quote when only an
        attribution stands between them, its own quote by the same speaker otherwise), or
        attributed from its lead-in."""
        previous, seg = self.previous_speech, around.first
        speaks_on = not around.whole_paragraph and not around.lead.strip() and _speaks_on(previous, self.segments, self.index)
        if speaks_on and self.links[self.index - 1]:
            assert previous is not None
            previous.spans.extend(finding.spans)
            previous.mark_spans.extend(finding.mark_spans)
            return True, None
        if around.whole_paragraph and _continues(previous, seg, self.paragraph_spans, self.text):
            # Most likely the same speaker going on, but nothing in the text ties this paragraph
            # to them and a closed quotation ends its attribution, so the verifier cannot join it
            # to their quote: left out rather than reported under an unconfirmed speaker.
            return True, None
        if speaks_on:
            assert previous is not None
            _speak_on(finding, previous)
            self.findings.append(finding)
            self.previous_speech = finding
            return True, None
        return False, context_attribution(self.text, seg, around.lead, self.paragraph_spans)

    def _split_after_cue(self, finding: QuoteFinding, post: Attribution, last: QuotationSpan) -> None:
        """ ", he said, “…”" and ", Mr. Hedge said. ''…''": the next quotation continues this quote."""
        segments, index, text = self.segments, self.index, self.text
        if index + 1 >= len(segments) or not self.links[index]:
            return
        nxt = segments[index + 1]
        gap = text[post.clause_end : nxt.open_at]
        if (
            nxt.paragraph == last.paragraph
            and re.fullmatch(r"[\s,.:;—–-]*(?:(?:and|then|adding|before adding|continuing)[\s,:]*)?", gap)
            # "…,” Anderson said, adding that he is “definitely…”: a fragment of the writer's clause.
            and re.search(r"[,.:;—–-]\s*$", text[last.close_end : nxt.open_at])
            and post_attribution(text, nxt, _next_open(segments, index + 1, self.paragraph_spans)) is None
        ):
            finding.spans.append((nxt.start, nxt.end))
            finding.mark_spans.append((nxt.open_at, nxt.close_end))
            self.index += 1


def _fragment_or(kind: str, words: list[str]) -> str:
    """A few words quoted inside a sentence are a phrase borrowed, not a statement, unless
    they are an exclamation or a question ("a man yelled “Stay there!”")."""
    if kind != QuoteKind.speech or len(words) >= _MIN_EMBEDDED_WORDS or words[-1].rstrip("”’'\"")[-1:] in ("!", "?"):
        return kind
    return QuoteKind.scare


def _same_sentence_sibling(text: str, findings: list[QuoteFinding], lead_start: int, open_at: int) -> QuoteFinding | None:
    """The quote this one follows in a list ("as “spiritual,” “a love letter”…"), which lends it its type and speaker."""
    if not findings:
        return None
    last = findings[-1]
    if last.mark_spans[-1][1] < lead_start or not last.embedded or last.speaker is None:
        return None
    between = text[last.mark_spans[-1][1] : open_at]
    if (
        re.fullmatch(
            r"[\s,;]*(?:(?:and|or|and even|and then|and his classic|and her classic|as well as)\s*)?(?:[\w’']+\s+){0,2}", between
        )
        and "\n" not in between
    ):
        return last
    return None


def _speaks_on(previous: QuoteFinding | None, segments: tuple[QuotationSpan, ...], index: int) -> bool:
    """A quoted sentence with no cue of its own, right after an attributed quote in the same
    paragraph, goes on with that quote ("…,'' said Mr. Ekovich. ''Things are…'')."""
    if previous is None or previous.speaker is None or not index:
        return False
    before = segments[index - 1]
    return before.paragraph == segments[index].paragraph and before.open_at == previous.mark_spans[-1][0]


def _continues(previous: QuoteFinding | None, seg: QuotationSpan, paragraph_spans: list[tuple[int, int]], text: str) -> bool:
    """A stand-alone quote paragraph right after a paragraph ending in a quote goes on with that quote."""
    if previous is None or seg.paragraph == 0:
        return False
    lead_start, lead_end = paragraph_spans[seg.paragraph - 1]
    last_close = previous.mark_spans[-1][1]
    return lead_start <= last_close and not re.search(r"\w", text[sentence_end(text, last_close, lead_end) : lead_end])


def _next_open(segments: tuple[QuotationSpan, ...], index: int, paragraph_spans: list[tuple[int, int]]) -> int:
    seg = segments[index]
    if index + 1 < len(segments) and segments[index + 1].paragraph == seg.paragraph:
        return segments[index + 1].open_at
    return paragraph_spans[seg.paragraph][1]


def _speak_on(finding: QuoteFinding, previous: QuoteFinding) -> None:
    """A quotation that goes on with the previous speaker's without an attribution between
    them is theirs, but its own quote: only quotations of one attribution join into one
    quote (pipeline.checks.attribution.attribution_links)."""
    finding.speaker, finding.speaker_kind, finding.cue, finding.channel = (
        previous.speaker,
        previous.speaker_kind,
        previous.cue,
        previous.channel,
    )


def _apply(finding: QuoteFinding, attribution: Attribution, persons: PersonIndex) -> None:
    speaker = attribution.speaker
    assert speaker is not None
    finding.cue = attribution.cue
    finding.channel = attribution.channel
    if speaker.pronoun:
        resolved = persons.resolve(speaker.text, speaker.start)
        if resolved:
            finding.speaker, finding.speaker_kind = resolved, SpeakerKind.named
            return
        if speaker.text.lower() == "they":
            finding.speaker, finding.speaker_kind = speaker.text, SpeakerKind.crowd
            return
    finding.speaker, finding.speaker_kind = speaker.text, speaker.kind
    if speaker.kind == SpeakerKind.named:
        persons.note_speaker(speaker.text, speaker.start)


def find_quotes(text: str | ParsedArticle) -> list[VerifiedQuote]:
    """Attributed speech in the article, through the one verifier every engine's quotes go
    through; titles, scare quotes and catchphrases are left out as they are not anyone's
    statement. Found once per parsed article: the engine and the signals both ask."""
    return parsed(text).derived(_find_quotes)


def _find_quotes(article: ParsedArticle) -> list[VerifiedQuote]:
    text = article.text
    drafts = [
        QuoteDraft(
            speaker=finding.speaker or "unknown",
            speaker_kind=finding.speaker_kind,
            text=" ".join(text[start:end] for start, end in finding.spans),
            cue=finding.cue or None,
            channel=finding.channel,
        )
        for finding in scan_quotes(article)
        if finding.kind == QuoteKind.speech
    ]
    return verify_quotes(article, drafts)[0]
