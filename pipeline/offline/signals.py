"""Fabrication signals: countable marks of invented stories, computed for every article."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pipeline.models import ReasonCode, Signals, SpeakerKind, VerifiedQuote
from pipeline.checks.verdict import DEFAULT_PRIOR
from pipeline.offline.label import label_probabilities
from pipeline.offline.model import word_features
from pipeline.offline.quotes import find_quotes
from pipeline.parsed import ParsedArticle, parsed
from pipeline.text import person_names, words

__all__ = [
    "SignalCounts",
    "measure_signals",
    "compute_signals",
    "signals_from_counts",
    "unverifiable_media",
    "deceased_people",
    "presented_acting",
    "evidence_features",
    "evidence_reasons",
    "style_risk",
    "SUPERLATIVE_WORDS",
    "TEMPLATE_PHRASES",
]

_MEDIA_WORDS = frozenset(
    """video videos footage clip clips recording recordings tape tapes film reel reels file files
    performance photo photos photograph photographs interview interviews letter letters note notes
    voicemail message messages rehearsal""".split()
)
# Words that present a recording as hidden until now; "final", "last", "found" or "archive" are
# everyday news words ("his last interview", "the archive footage") and are not among them.
_HIDDEN_WORDS = frozenset("""unreleased unseen surfaced resurfaced rediscovered leaked hidden secret vault""".split())
_HIDDEN_PHRASES = frozenset({"never before", "long lost", "private rehearsal", "thought lost", "private screening"})


def unverifiable_media(features: frozenset[str]) -> bool:
    """A sentence (as its word features) that points at a recording, file or interview nobody
    can be shown: lost, private, leaked, never-before-seen and the like."""
    return bool(features & _MEDIA_WORDS) and bool(features & _HIDDEN_WORDS or features & _HIDDEN_PHRASES)


_VIRAL_RE = re.compile(
    r"(?=[mgtbswfvac#])\b(?:millions? of (?:views|fans|people|viewers|likes|shares)|went viral|gone viral|trend(?:ed|ing)|"
    r"broke the internet|social media (?:exploded|erupted|went wild|lit up)|the internet (?:exploded|erupted|melted)|"
    r"within (?:minutes|hours)|flooded (?:the internet|social media|timelines)|views in|amassed|"
    r"(?:across|around) the (?:globe|world)|worldwide|#\w+)"
)
"""Viral-metric phrases, matched on the lower-cased text (much faster than ignoring case); the
lookahead on their first letters lets the scan pass other positions at once."""
SUPERLATIVE_WORDS = frozenset(
    """breathtaking heartbreaking heartwarming stunning stunned transcendent unforgettable eternal
    eternity legendary legend sacred divine heaven heavenly tear tears sob sobbed sobbing heartfelt
    emotional incredible masterpiece magical miracle miraculous timeless beautiful breathtakingly
    speechless soul souls forever profound powerful unbelievable shocking moving touching overwhelmed
    overwhelming goosebumps chills iconic""".split()
)
# Stock phrases of the viral tribute template, matched on the lower-cased text.
TEMPLATE_PHRASES = (
    "stops the world",
    "stop the world",
    "the world fell silent",
    "the world went silent",
    "time seemed to stop",
    "time stood still",
    "not a dry eye",
    "left fans in tears",
    "left fans speechless",
    "left everyone speechless",
    "never-before-seen",
    "never before seen",
    "long-lost",
    "one thing is clear",
    "one thing is certain",
    "it wasn't just",
    "it wasn’t just",
    "more than just",
    "it's not goodbye",
    "it’s not goodbye",
    "the world remembers",
    "will never be the same",
    "you could feel",
    "you could almost feel",
    "broke the internet",
    "fans around the world",
    "fans across the globe",
    "the internet exploded",
    "social media exploded",
    "social media erupted",
    "within hours",
    "within minutes",
    "a reminder that",
    "some dances end",
    "the music will always go on",
    "the dance goes on",
    "the world collectively",
)
_TOKEN = re.compile(r"[a-z]+")
_ANONYMOUS_SOURCE = re.compile(
    r"(?=[aAsSiIpPfF])\b(?:an? (?:source|insider|friend|pal|witness)|sources|insiders|people (?:close|familiar)|"
    r"someone close|one (?:source|insider|observer))\b"
)
_HEARSAY = re.compile(
    r"(?=[rRaAsSiI])\b(?:reportedly|rumou?rs?|rumou?red|allegedly|according to (?:reports|sources|a report|insiders)|"
    r"sources? (?:say|said|claim|claimed|told|tell|close)|an? (?:source|insider)|insiders?)\b"
)
_ATTRIBUTION = re.compile(r"(?=[asctrpd])\b(?:according to|said|says|told|tells|reported|confirmed|stated|announced|per)\b")
_EXCLAMATION = re.compile(r"!")
_EMOJI = re.compile("[\U0001f300-\U0001faff\u2600-\u27bf\u2b50\u2b55\u2728]")
_DATELINE = re.compile(
    r"^(?:[A-Z][A-Z.'’ -]{2,40}(?:,\s*[A-Z][A-Za-z. ]{1,25})?\s*(?:\([A-Za-z ]+\))?\s*[—–-]{1,2}\s)|"
    r"\((?:AP|Reuters|AFP|CNN|UPI|Bloomberg)\)",
)
_DATE = re.compile(
    r"\b(?:Jan(?:uary)?|Feb(?:ruary)?|Mar(?:ch)?|Apr(?:il)?|May|June?|July?|Aug(?:ust)?|Sept?(?:ember)?|"
    r"Oct(?:ober)?|Nov(?:ember)?|Dec(?:ember)?)\.? \d{1,2}(?:st|nd|rd|th)?,? (?:19|20)\d\d\b|\b\d{4}-\d{2}-\d{2}\b"
)
_DEATH = re.compile(r"(?=[lpdh])\b(?P<late>late)\b|\b(?:passed away|died|has died|had died|lost (?:his|her) battle)\b")
_DEATH_CONTEXT = 80
_ACTION_AFTER_DEATH = re.compile(
    r"^\s+(?:leads|points|clasps|steps|smiles|says|dances|appears|turns|nods|laughs|grins|whispers|winks|"
    r"takes|reaches|spins|bows|waves|wagging|sings|speaks|looks)\b"
)


@dataclass(eq=False)
class SignalCounts:
    """The raw signal values, before the scorer turns them into label scores."""

    quotes: list[VerifiedQuote]
    quote_count: int
    unnamed_quote_share: float
    unverifiable_media: int
    viral_metrics: int
    superlative_density: float
    emoji_headings: int
    has_dateline: bool
    posthumous_attributions: int
    template_phrases: int
    word_count: int
    named_quotes: int
    anonymous_source_mentions: int
    hearsay: int
    attributions: int
    exclamations: int


def deceased_people(text: str | ParsedArticle) -> frozenset[str]:
    """Names the article itself says have died, with their first and last name as keys too;
    read once per parsed article (the signals and the claims both ask)."""
    return parsed(text).derived(_deceased_people)


def _deceased_people(article: ParsedArticle) -> frozenset[str]:
    text = article.text
    dead: set[str] = set()
    for match in _DEATH.finditer(text):
        if match.group("late"):
            # "his late friend, mentor, and fellow legend, Len Goodman": the first name after.
            names = person_names(text[match.end() : match.end() + _DEATH_CONTEXT].split(".")[0])
            if names:
                dead.add(names[0][2])
        else:
            # "Len Goodman, who passed away in 2023" / "Len Goodman passed away": the last name before.
            before = text[max(0, match.start() - _DEATH_CONTEXT) : match.start()]
            names = person_names(re.split(r"[.!?\n]", before)[-1])
            if names:
                dead.add(names[-1][2])
    keys = set(dead)
    for name in dead:
        parts = name.split()
        keys.update((parts[0], parts[-1]))
    return frozenset(keys)


def presented_acting(text: str | ParsedArticle, people: frozenset[str]) -> list[tuple[int, int, str]]:
    """(start, end, name) of each mention of one of ``people`` (full, first or last names)
    followed by an act in the present: "Len leads", "Len clasps his shoulder"."""
    article = parsed(text)
    text = article.text
    return [
        (start, end, name)
        for start, end, name in article.names
        if (name in people or name.split()[0] in people) and _ACTION_AFTER_DEATH.match(text[end : end + 20])
    ]


def _posthumous(article: ParsedArticle, quotes: list[VerifiedQuote]) -> int:
    dead = deceased_people(article)
    if not dead:
        return 0
    count = sum(1 for q in quotes if set(q.speaker.split()) & dead or q.speaker in dead)
    return count + len(presented_acting(article, dead))


def _emoji_headings(text: str) -> int:
    count = 0
    for line in text.splitlines():
        stripped = line.strip()
        if stripped and len(stripped.split()) <= 12 and (_EMOJI.match(stripped) or _EMOJI.search(stripped[-3:])):
            count += 1
    return count


def measure_signals(text: str | ParsedArticle) -> SignalCounts:
    """The raw signals of an article; measured once per parsed article, as the engine and the
    runner both ask for them."""
    return parsed(text).derived(_measure_signals)


def _measure_signals(article: ParsedArticle) -> SignalCounts:
    text = article.text
    quotes = find_quotes(article)
    word_count = len(words(text))
    # A quote whose attribution does not name its speaker is never named sourcing.
    unnamed = sum(1 for q in quotes if q.speaker_kind != SpeakerKind.named or not q.speaker_verified)
    opening = text[:400]
    has_dateline = bool(_DATELINE.search(opening) or _DATE.search(opening))
    unverifiable = sum(1 for s, e in article.sentences if unverifiable_media(word_features(text[s:e])))
    lowered = text.lower()
    tokens = _TOKEN.findall(lowered)
    return SignalCounts(
        quotes=quotes,
        quote_count=len(quotes),
        unnamed_quote_share=unnamed / len(quotes) if quotes else 0.0,
        unverifiable_media=unverifiable,
        viral_metrics=len(_VIRAL_RE.findall(lowered)),
        superlative_density=100 * sum(map(SUPERLATIVE_WORDS.__contains__, tokens)) / max(word_count, 1),
        emoji_headings=_emoji_headings(text),
        has_dateline=has_dateline,
        posthumous_attributions=_posthumous(article, quotes),
        template_phrases=sum(lowered.count(phrase) for phrase in TEMPLATE_PHRASES),
        word_count=word_count,
        named_quotes=len(quotes) - unnamed,
        anonymous_source_mentions=len(_ANONYMOUS_SOURCE.findall(text)),
        hearsay=len(_HEARSAY.findall(text)),
        attributions=len(_ATTRIBUTION.findall(lowered)),
        exclamations=len(_EXCLAMATION.findall(text)),
    )


# Fewer attributions than this ("said", "told", "according to") with nobody named quoted: the
# events rest on no findable source.
_FEW_ATTRIBUTIONS = 3


def evidence_features(counts: SignalCounts) -> dict[str, float]:
    """The calibration's evidence inputs, each 0 or 1: the central events rest only on
    anonymous sources (unnamed quotes or "a source", and no named person quoted); nobody named is
    quoted and hardly anything is attributed; the events are told as
    rumour or report ("reportedly", "sources say", "an insider"); media nobody can be shown; a dead person acting or speaking."""
    unnamed = counts.quote_count - counts.named_quotes
    return {
        "anonymous_only": float(counts.named_quotes == 0 and (unnamed > 0 or counts.anonymous_source_mentions > 0)),
        "unsourced": float(counts.named_quotes == 0 and counts.attributions < _FEW_ATTRIBUTIONS),
        "hearsay": float(counts.hearsay > 0),
        "unverifiable_media": float(counts.unverifiable_media > 0),
        "posthumous": float(counts.posthumous_attributions > 0),
    }


_EVIDENCE_REASONS = {
    "anonymous_only": ReasonCode.anonymous_sourcing,
    "unsourced": ReasonCode.uncorroborated_event,
    "hearsay": ReasonCode.anonymous_sourcing,
    "unverifiable_media": ReasonCode.unverifiable_media,
    "posthumous": ReasonCode.posthumous_attribution,
}


def evidence_reasons(counts: SignalCounts) -> list[ReasonCode]:
    """The pieces of evidence the text itself shows, as reason codes."""
    return list(dict.fromkeys(_EVIDENCE_REASONS[name] for name, value in evidence_features(counts).items() if value))


def style_risk(counts: SignalCounts) -> float:
    """How sensational the wording is, 0 to 1: superlatives, emoji headings, stock template
    phrases, viral metrics and exclamations. Shown to the editor beside the label; never an
    input of the label. Hand-set: each mark adds to one total that saturates."""
    total = (
        0.5 * min(counts.superlative_density, 6)
        + 0.6 * min(counts.emoji_headings, 4)
        + 0.4 * min(counts.template_phrases, 5)
        + 0.4 * min(counts.viral_metrics, 5)
        + 0.2 * min(1000 * counts.exclamations / max(counts.word_count, 50), 10)
    )
    return round(1 - 2 ** (-total / 2), 4)


def compute_signals(text: str | ParsedArticle, prior: float = DEFAULT_PRIOR) -> Signals:
    """The fabrication signals of an article and the offline scorer's calibrated probabilities
    for a feed with ``prior`` fabrications; scored once per parsed article and prior, as the
    offline engine and the runner both ask."""
    article = parsed(text)
    scored = article.derived(_signals_by_prior)
    if prior not in scored:
        scored[prior] = signals_from_counts(article.text, measure_signals(article), prior)
    return scored[prior]


def _signals_by_prior(_article: ParsedArticle) -> dict[float, Signals]:
    return {}


def signals_from_counts(text: str, counts: SignalCounts, prior: float = DEFAULT_PRIOR) -> Signals:
    return Signals(
        quote_count=counts.quote_count,
        unnamed_quote_share=round(counts.unnamed_quote_share, 4),
        unverifiable_media=counts.unverifiable_media,
        viral_metrics=counts.viral_metrics,
        superlative_density=round(counts.superlative_density, 4),
        emoji_headings=counts.emoji_headings,
        has_dateline=counts.has_dateline,
        posthumous_attributions=counts.posthumous_attributions,
        template_phrases=counts.template_phrases,
        scores=label_probabilities(text, evidence_features(counts), prior),
        style_risk=style_risk(counts),
        evidence=evidence_reasons(counts),
    )
