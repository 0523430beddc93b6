"""Events needing confirmation: check-worthy sentences turned into claims.

A sentence is a claim when the fitted check-worthiness model says so, or when it reports a
concrete event (released, posted, discovered…) that one of the doubt rules applies to. The
rules then fill who / when / where, why it needs confirming, where to check and a priority.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from pipeline.models import ClaimDraft, Priority, ReasonCode
from pipeline.offline.check_with import (
    CREDIT_AFTER,
    CREDIT_BEFORE,
    STATISTIC,
    check_with,
    cited_source,
    claim_kind,
    is_person,
    opens_sentence,
    person_name,
)
from pipeline.offline.model import load_models, word_features
from pipeline.offline.signals import deceased_people, unverifiable_media
from pipeline.parsed import ParsedArticle, parsed
from pipeline.text import person_names

__all__ = [
    "sentence_features",
    "is_check_worthy",
    "find_claims",
    "claim_kind",
    "is_crowd_reaction",
    "EVENT_TERMS",
    "sentence_people",
    "where_to_check",
]

# Event verbs as word features (unigrams and bigrams of the lower-cased sentence).
EVENT_TERMS = frozenset(
    """released releases releasing posted posts posting announced announces announcing discovered
    discovers uncovered trended trending interviewed interview premiered premieres unveiled unveils
    uploaded uploads surfaced surfaces resurfaced aired broadcast performed performs shared revealed
    launched signed filed married died recorded filmed screened screening streamed streaming donated
    won awarded arrested sued confirmed told wrote""".split()
) | {"passed away", "said on", "appeared on", "stepped onto"}
# Doubt rules as word features (unigrams and bigrams of the lower-cased sentence).
_ANONYMOUS_TERMS = frozenset("""insider insiders anonymous anonymously technician archivist""".split()) | {
    "a source",
    "sources close",
    "source close",
    "sources say",
    "one source",
    "team member",
    "people familiar",
    "person familiar",
    "person close",
    "friend close",
    "one observer",
    "one critic",
    "one viewer",
    "one user",
    "one fan",
}
_EXTRAORDINARY_TERMS = frozenset(
    """miracle miraculous unprecedented heaven heavenly supernatural ghost ghostly silhouette""".split()
) | {"never before", "long lost", "first time", "from beyond", "shocked the", "stunned the"}
_VIRAL_TERMS = frozenset("""viral trending trended views worldwide amassed hashtag""".split()) | {
    "millions of",
    "broke the",
    "within hours",
    "within minutes",
    "the globe",
    "social media",
}
# The lookaheads on first characters let a scan pass other positions at once.
_WHEN = re.compile(
    r"(?=[oltnisbewyJFMASOND12])\b(?:(?:on|last|this|next) (?:Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|week|month|year|"
    r"night|morning|weekend)|(?:in|since|by) (?:early |late )?(?:19|20)\d\d|(?:earlier|later) this (?:year|month|week)|"
    r"within \d+ (?:hours|minutes|days)|within (?:hours|minutes|days)|yesterday|today|tonight|"
    r"(?:Jan(?:uary)?|Feb(?:ruary)?|March|April|May|June|July|Aug(?:ust)?|Sept?(?:ember)?|Oct(?:ober)?|"
    r"Nov(?:ember)?|Dec(?:ember)?)\.? \d{1,2}(?:, (?:19|20)\d\d)?|(?:19|20)\d\d)\b"
)
_WHERE = re.compile(r"(?=[ia])\b(?:in|at) (?P<place>(?:the )?[A-Z][\w’'.-]+(?: (?:[A-Z][\w’'.-]+|of|the))*)")
_NUMBER_WORDS = frozenset({"<num>", "percent", "million", "billion", "thousand", "hundred", "twice", "half", "double", "triple"})
_BIG_NUMBERS = frozenset({"million", "billion", "trillion"})
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CAPITALISED = re.compile(r"[A-Z](?<=[a-z,] [A-Z])[a-z]+")  # the capital first: a fast scan
_MAX_EVENT_CHARS = 400


def sentence_features(sentence: str, words: frozenset[str]) -> dict[str, float]:
    """Dense features of one sentence (and its word features) for the check-worthiness model."""
    tokens = sentence.split()
    # The regexes only run where the word features show a figure could be there.
    has_figure = "<num>" in words or not words.isdisjoint(_BIG_NUMBERS)
    return {
        "has_number": 1.0 if words & _NUMBER_WORDS else 0.0,
        "has_statistic": 1.0 if has_figure and STATISTIC.search(sentence) else 0.0,
        "has_year": 1.0 if "<num>" in words and _YEAR.search(sentence) else 0.0,
        "has_event": 1.0 if words & EVENT_TERMS else 0.0,
        "names": min(len(_CAPITALISED.findall(sentence)), 4) / 4,
        "length": min(len(tokens), 60) / 60,
        "short": 1.0 if len(tokens) < 8 else 0.0,
        "question": 1.0 if sentence.rstrip().endswith("?") else 0.0,
    }


def is_check_worthy(sentence: str, words: frozenset[str] | None = None) -> bool:
    words = word_features(sentence) if words is None else words
    model = load_models()["claims"]
    return model.probability_of(words, sentence_features(sentence, words)) >= model.threshold


def _reasons(sentence: str, words: frozenset[str], dead: frozenset[str], when: str | None) -> list[ReasonCode]:
    why = []
    if words & _ANONYMOUS_TERMS:
        why.append(ReasonCode.anonymous_sourcing)
    if unverifiable_media(words):
        why.append(ReasonCode.unverifiable_media)
    if words & _VIRAL_TERMS or "#" in sentence:
        why.append(ReasonCode.viral_metrics)
    if words & _EXTRAORDINARY_TERMS:
        why.append(ReasonCode.extraordinary_claim)
    if (
        dead
        and any(name in dead for _, _, name in person_names(sentence))
        and not re.search(r"passed away|died|late\b", sentence)
    ):
        why.append(ReasonCode.posthumous_attribution)
    if why and when is None and why != [ReasonCode.viral_metrics]:
        # Viral metrics alone are style, not an event without a source.
        why.append(ReasonCode.uncorroborated_event)
    return why


_PLACE_PREPOSITION = re.compile(r"\b(?:in|at|from|near|across|to|outside|inside)\s+(?:(?:a|an|the|downtown|central)\s+)?$")


_NICKNAMED = re.compile(r"\b(?P<first>[A-Z][a-z]+) [“\"‘'][A-Z][\w.]*[”\"’'] (?P<last>[A-Z][a-z]+)")


def _lowercase_words(article: ParsedArticle) -> frozenset[str]:
    """The words the article writes in lower case: capitalised only where a sentence starts."""
    return frozenset(word.lower() for word in re.findall(r"\b[a-z][a-z’'-]+", article.text))


def _people_names(article: ParsedArticle) -> tuple[tuple[int, int, str], ...]:
    """The article's names as ``person_name`` reads them, with offsets; a sentence's first
    word stays part of a name the article also writes mid-sentence ("Will Smith")."""
    text = article.text
    mid_sentence = {name for start, _, name in article.names if not opens_sentence(text, start)}
    common = article.derived(_lowercase_words)
    nicknamed = {match.start(): match for match in _NICKNAMED.finditer(text)}
    found = []
    skip_to = 0
    for start, end, name in article.names:
        if start < skip_to:
            continue
        if start in nicknamed:
            # "Golnesa “GG” Gharachedaghi": one person, by first and last name.
            match = nicknamed[start]
            found.append((start, match.end(), f"{match.group('first')} {match.group('last')}"))
            skip_to = match.end()
            continue
        if CREDIT_BEFORE.search(text, max(0, start - 24), start) or CREDIT_AFTER.match(text, end):
            continue
        initial = opens_sentence(text, start) and name not in mid_sentence
        cleaned = person_name(name, initial, common)
        if cleaned:
            at = start + name.rfind(cleaned)
            found.append((at, at + len(cleaned), cleaned))
    return tuple(found)


def _full_names(article: ParsedArticle) -> dict[str, str]:
    """Each first or last name of a multi-word name in the article -> that full name."""
    full: dict[str, str] = {}
    for _, _, name in article.derived(_people_names):
        tokens = name.split()
        if len(tokens) > 1:
            full.setdefault(tokens[0], name)
            full.setdefault(tokens[-1], name)
            full.setdefault(name, name)
    return full


def _name_starts(article: ParsedArticle) -> list[int]:
    return [start for start, _, _ in article.derived(_people_names)]


def sentence_people(article: ParsedArticle, first: int, end: int) -> list[str]:
    """The people the sentence at ``first:end`` names, in order, by their full names. A lone
    capitalised word counts only as part of a full name the article gives ("Len" -> "Len
    Goodman"), so a sentence's first word ("Clips", "Shot") is not taken for a person, nor is
    a name after a place preposition ("in Los Angeles"), nor one that reads as a date, event,
    group, place or title (``check_with.is_person``)."""
    text = article.text
    sentence = text[first:end]
    full_names = article.derived(_full_names)
    people: list[str] = []
    names = article.derived(_people_names)
    for start, _, name in names[bisect_left(article.derived(_name_starts), first) :]:
        if start >= end:
            break
        if _PLACE_PREPOSITION.search(text[max(0, start - 24) : start]) and full_names.get(name) in (name, None):
            # "in Los Angeles" is a place; "from Kevin", where the article names Kevin Hart, a person.
            continue
        if name in full_names and full_names[name] not in people and is_person(full_names[name], sentence):
            people.append(full_names[name])
    return people


def where_to_check(text: str | ParsedArticle, start: int, end: int) -> str:
    """The "check with" line of the sentence at ``start:end``, claim or not."""
    article = parsed(text)
    people = sentence_people(article, start, end)
    return check_with(article.text[start:end], people, deceased_people(article), article.derived(_lowercase_words))


_CROWD = re.compile(
    r"(?=[fvuptsiaoe])\b(?:fans|viewers|users|people|the internet|social media|audiences|one (?:fan|viewer|user)|"
    r"everyone|commenters|followers)\b",
    re.IGNORECASE,
)
_REACTION = re.compile(
    r"(?=[wcrpdsftlhm])\b(?:wrote|commented|reacted|praised|described|called|said|flooded|tweeted|left|"
    r"hailed|mourned|shared (?:their|heartfelt))\b"
)


def is_crowd_reaction(sentence: str, who: str | None) -> bool:
    """Fans, viewers or "social media" reacting: colour, not the story's events."""
    return who is None and bool(_CROWD.search(sentence)) and bool(_REACTION.search(sentence))


def _priority(why: list[ReasonCode], event: bool, crowd: bool = False) -> Priority:
    if crowd:
        return Priority.low
    strong = {
        ReasonCode.unverifiable_media,
        ReasonCode.posthumous_attribution,
        ReasonCode.extraordinary_claim,
        ReasonCode.anonymous_sourcing,
    }
    if len(why) >= 2 or strong & set(why) and event:
        return Priority.high
    if why or event:
        return Priority.medium
    return Priority.low


def find_claims(text: str | ParsedArticle) -> list[ClaimDraft]:
    """Claims for every check-worthy sentence and every event sentence a doubt rule applies to."""
    article = parsed(text)
    text = article.text
    dead = deceased_people(article)
    claims = []
    for start, end in article.sentences:
        sentence = text[start:end]
        if len(sentence.split()) < 4:
            continue
        words = word_features(sentence)
        kind = claim_kind(sentence)
        event = bool(words & EVENT_TERMS) or kind is not None
        worthy = is_check_worthy(sentence, words)
        if not worthy and not event:
            continue
        when_match = _WHEN.search(sentence)
        when = when_match.group() if when_match else None
        why = _reasons(sentence, words, dead, when)
        people = sentence_people(article, start, end)
        who = people[0] if people else None
        crowd = is_crowd_reaction(sentence, who)
        if kind not in (None, "viral") and not why and when is None and not crowd:
            # A broadcast, post or release with no date or findable source. A view count or
            # the crowd's reaction is how a story spread, not an event of it.
            why = [ReasonCode.uncorroborated_event]
        if not worthy and not why:
            continue
        where_match = _WHERE.search(sentence)
        claims.append(
            ClaimDraft(
                event=sentence[:_MAX_EVENT_CHARS],
                who=who,
                when=when,
                where=where_match.group("place") if where_match else None,
                attributed_to=cited_source(sentence),
                why=why,
                check_with=check_with(sentence, people, dead, article.derived(_lowercase_words)),
                priority=_priority(why, event, crowd),
            )
        )
    return claims
