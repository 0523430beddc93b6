"""Events needing confirmation: check-worthy sentences turned into claims.

A sentence is a claim when the fitted check-worthiness model says so, or when it reports a
concrete event (released, posted, discovered…) that one of the doubt rules applies to. The
rules then fill who / when / where, why it needs confirming, where to check and a priority.
"""

from __future__ import annotations

import re
from bisect import bisect_left

from pipeline.models import ClaimDraft, Priority, ReasonCode
from pipeline.offline.model import load_models, word_features
from pipeline.offline.signals import deceased_people, unverifiable_media
from pipeline.parsed import ParsedArticle, parsed
from pipeline.text import person_names

__all__ = ["sentence_features", "is_check_worthy", "find_claims", "claim_kind", "is_crowd_reaction", "EVENT_TERMS"]

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
_PLATFORM = re.compile(
    r"(?=[YITFXo])\b(?:YouTube|Instagram|Twitter|TikTok|Facebook|X|Threads|official (?:channel|channels|account|page)s?)\b"
)
_SHOW = re.compile(r"(?=o)\bon (?P<show>(?:[A-Z][\w’'!-]+ ?){1,5})")
_NUMBER_WORDS = frozenset({"<num>", "percent", "million", "billion", "thousand", "hundred", "twice", "half", "double", "triple"})
_STATISTIC = re.compile(
    r"(?=[\d$mbtMBT])(?:\d+(?:\.\d+)?\s*(?:%|percent)|\$\s?\d|\b\d+(?:,\d{3})+\b|\b(?:million|billion|trillion)\b)", re.IGNORECASE
)
_BIG_NUMBERS = frozenset({"million", "billion", "trillion"})
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_CAPITALISED = re.compile(r"[A-Z](?<=[a-z,] [A-Z])[a-z]+")  # the capital first: a fast scan
_SOURCE = re.compile(r"(?=[aA])\baccording to (?P<source>[^,.;:“”\"]{3,80})", re.IGNORECASE)
_MAX_EVENT_CHARS = 400


def sentence_features(sentence: str, words: frozenset[str]) -> dict[str, float]:
    """Dense features of one sentence (and its word features) for the check-worthiness model."""
    tokens = sentence.split()
    # The regexes only run where the word features show a figure could be there.
    has_figure = "<num>" in words or not words.isdisjoint(_BIG_NUMBERS)
    return {
        "has_number": 1.0 if words & _NUMBER_WORDS else 0.0,
        "has_statistic": 1.0 if has_figure and _STATISTIC.search(sentence) else 0.0,
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


def _attributed_to(sentence: str) -> str | None:
    match = _SOURCE.search(sentence)
    return match.group("source").strip() if match else None


_PLACE_PREPOSITION = re.compile(r"\b(?:in|at|from|near|across|to|outside|inside)\s+(?:(?:a|an|the|downtown|central)\s+)?$")


def _full_names(names: tuple[tuple[int, int, str], ...]) -> dict[str, str]:
    """Each first or last name of a multi-word name in the article -> that full name."""
    full: dict[str, str] = {}
    for _, _, name in names:
        tokens = name.split()
        if len(tokens) > 1:
            full.setdefault(tokens[0], name)
            full.setdefault(tokens[-1], name)
            full.setdefault(name, name)
    return full


def _people(text: str, names: tuple[tuple[int, int, str], ...], first: int, end: int, full_names: dict[str, str]) -> list[str]:
    """The people the sentence names, in order, by their full names. A lone capitalised word
    counts only as part of a full name the article gives ("Len" -> "Len Goodman"), so a
    sentence's first word ("Clips", "Shot") is not taken for a person, nor is a name
    after a place preposition ("in Los Angeles")."""
    people: list[str] = []
    for start, _, name in names[first:]:
        if start >= end:
            break
        if _PLACE_PREPOSITION.search(text[max(0, start - 24) : start]):
            continue
        if name in full_names and full_names[name] not in people:
            people.append(full_names[name])
    return people


_BROADCAST = re.compile(
    r"(?=[iabspetdrGT])\b(?:interview(?:s|ed)?|appear(?:ed|ance) on|broadcast|aired|episode|podcast|press conference|"
    r"segment|told (?:reporters|the [A-Z]\w+)|said on|spoke (?:to|on|with))\b|\b(?:Good Morning America|GMA|Today|The View|"
    r"Tonight Show|Late Show|60 Minutes|BBC|CNN|NBC|ABC|CBS|Fox News|ITV|Sky News)\b"
)
_SOCIAL = re.compile(
    r"(?=[ptcsIYTFXh#])\b(?:posted|tweeted|captioned|shared|post|tweet|story|reel|hashtag)\b|#\w+|"
    r"\b(?:YouTube|Instagram|Twitter|TikTok|Facebook|Threads)\b"
)
_RELEASE = re.compile(
    r"(?=[rpulsdna])\b(?:releas(?:ed|es|ing)|premier(?:ed|es)|unveil(?:ed|s)|launch(?:ed|es)|streaming|"
    r"dropped|announced|available)\b"
)
_DEATH_EVENT = re.compile(r"(?=[dpf])\b(?:died|dies|passed away|death|funeral)\b")
_MEDIA = re.compile(r"(?=[vcfrspt])\b(?:video|clip|clips|footage|film|reels?|recording|performance|rehearsal|screening|tape)\b")
_HOLDER = re.compile(r"\b(?:studio|vault|archive|academy|theatre|theater)\b")
_UNNAMED_SPEAKER = re.compile(r"(?=[oO])\b[Oo]ne (?P<role>fan|viewer|user|critic|observer|team member|source|insider|dancer)\b")
# Capitalised spans inside a sentence: the programmes, organisations, works and places it names.
_NAMED = re.compile(r"(?<=[\s“‘\"(])[A-Z][\w’'.&-]*(?:\s(?:(?:of|the|with|from|for)\s)*[A-Z][\w’'.&-]*)*")
_NOT_NAMES = frozenset(
    """The A An As At In On When What Who Their They He She His Her It Its This That And But For From
    Another Every Each One Within After Before""".split()
)
_VIRAL = re.compile(r"(?=[vtma])\b(?:views|trending|trended|amassed|millions of|viral)\b")
_CROWD = re.compile(
    r"(?=[fvuptsiaoe])\b(?:fans|viewers|users|people|the internet|social media|audiences|one (?:fan|viewer|user)|"
    r"everyone|commenters|followers)\b",
    re.IGNORECASE,
)
_REACTION = re.compile(
    r"(?=[wcrpdsftlhm])\b(?:wrote|commented|reacted|praised|described|called|said|flooded|tweeted|left|"
    r"hailed|mourned|shared (?:their|heartfelt))\b"
)


def claim_kind(sentence: str) -> str | None:
    """What kind of event the sentence reports, for where to check it: a death, a broadcast or
    interview, a viral metric, a social post, a release; None for anything else."""
    for kind, pattern in (
        ("death", _DEATH_EVENT),
        ("broadcast", _BROADCAST),
        ("viral", _VIRAL),
        ("social", _SOCIAL),
        ("release", _RELEASE),
    ):
        if pattern.search(sentence):
            return kind
    return None


def is_crowd_reaction(sentence: str, who: str | None) -> bool:
    """Fans, viewers or "social media" reacting: colour, not the story's events."""
    return who is None and bool(_CROWD.search(sentence)) and bool(_REACTION.search(sentence))


def _named(sentence: str, people: frozenset[str]) -> str | None:
    """The first programme, organisation, work or place the sentence names that is not one of
    the people (first, last or full names) it names."""
    for match in _NAMED.finditer(sentence):
        name = match.group().removesuffix("’s").removesuffix("'s")
        if name.split()[0] in _NOT_NAMES and len(name.split()) == 1 or any(part in people for part in name.split()):
            continue
        return name
    return None


def _check_with(sentence: str, people: list[str], dead: frozenset[str]) -> str:
    """The primary source for the claim's kind, from what the sentence names; never a person
    the article says is dead (their estate, family or agent instead)."""
    who = people[0] if people else None
    living = [person for person in people if person not in dead and person.split()[-1] not in dead]
    alive = living[0] if living else None
    subject = alive or ("the estate or family of " + who if who else "the people named")
    kind = claim_kind(sentence)
    show = _SHOW.search(sentence)
    show_name = show.group("show").strip() if show and not _PLATFORM.match(show.group("show")) else None
    platform = _PLATFORM.search(sentence)
    source = _attributed_to(sentence)
    if kind == "death":
        return f"an obituary, or a statement from the family or agent of {who or 'the person named'}"
    if kind == "broadcast":
        if show_name:
            return f"the archive or press office of {show_name}"
        return "the programme's or network's archive or press office"
    if kind == "viral" and platform:
        return f"the public counters on the {platform.group()} post itself"
    if kind == "viral":
        return "the post itself, on the platform named (its public view and share counts)"
    if kind == "social" and platform:
        return f"{subject}'s verified {platform.group()} account (the post itself)"
    if kind == "social":
        return f"the account of {subject} that is said to have posted it"
    if kind == "release":
        return f"the official channel of {subject} (verified account, label, studio or press release)"
    if source:
        return f"{source}, the source the article cites, in its original"
    if _STATISTIC.search(sentence):
        return "the official statistics or record the figure comes from"
    unnamed = _UNNAMED_SPEAKER.search(sentence)
    if unnamed:
        return f"the outlet that published it, for the original post or the identity of the unnamed {unnamed.group('role')}"
    media = _MEDIA.search(sentence)
    if alive and media:
        return f"{alive}'s representatives, or the studio or account that first posted the {media.group()}"
    if alive:
        return f"{alive}'s representatives, or the first outlet to report it"
    if who:
        return f"the estate, family or agent of {who}"
    named = _named(sentence, dead | {part for person in people for part in person.split()})
    holder = _HOLDER.search(sentence)
    if media and named and holder:
        return f"the {named} {holder.group()} said to hold the {media.group()}, or the account that first posted it"
    if media:
        return f"the account or outlet that first posted the {media.group()}"
    if named:
        return f"the official channel, press office or archive of {named}"
    return "the first outlet to report it, or a public record of the event"


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
    names = article.names
    name_starts = [start for start, _, _ in names]
    full_names = _full_names(names)
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
        people = _people(text, names, bisect_left(name_starts, start), end, full_names)
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
                attributed_to=_attributed_to(sentence),
                why=why,
                check_with=_check_with(sentence, people, dead),
                priority=_priority(why, event, crowd),
            )
        )
    return claims
