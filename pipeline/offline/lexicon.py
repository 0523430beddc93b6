"""The offline quote rules' word lists and patterns: speech cues and the phrases
around them (adverbs, titles, channels, crowds, asides), in one place."""

from __future__ import annotations

import re

from pipeline.text import SPEECH_VERBS

__all__ = [
    "CUE_PHRASES",
    "CUE",
    "ADVERB",
    "TITLE_ABBREVIATION",
    "CUE_PHRASE_RE",
    "ASCII_WORD",
    "cues_in",
    "POST_SPEAKER_FIRST",
    "POST_CUE_FIRST",
    "CUE_NEXT",
    "NAME_THEN_CUE_NEXT",
    "TRAILING_ADVERBS",
    "PRE_CUE_FIRST",
    "ACCORDING_TO",
    "TITLE_LEAD",
    "CATCHPHRASE_LEAD",
    "CHANNEL",
    "DISCOURSE",
    "DETERMINER",
    "CROWD",
    "ANONYMOUS",
    "ASIDE",
    "COORDINATED_PREDICATE",
    "APPOSITIVE_START",
    "SIGNATURE",
    "CLOSING_CUE",
    "APPOSITION",
    "TITLED",
    "SUBJECT_PRONOUN",
    "ROLE_WORDS_BEFORE_NAME",
    "TITLE_SMALL_WORDS",
]

CUE_PHRASES = (
    r"pointed out|points out|went on|goes on|chimed in|put it|puts it|according to|referred to \w+ as|summed it up|weighed in"
)


CUE = r"(?:" + CUE_PHRASES + r"|" + "|".join(sorted(SPEECH_VERBS, key=len, reverse=True)) + r")"


ADVERB = (
    r"(?:softly|quietly|once|later|simply|then|also|recently|previously|again|just|reportedly|allegedly|"
    r"earlier|angrily|firmly|proudly|tearfully|jokingly|bluntly|flatly|frankly|candidly|publicly|"
    r"privately|famously|often|has|had|have|would|will|was|is|did|does|could|might|once|even|"
    r"reportedly|emotionally|warmly|simply|finally|succinctly|repeatedly|only|further|afterward)"
)


TITLE_ABBREVIATION = r"\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Prof|Rev|Capt|St|Jr|Sr|[A-Z])\."


CUE_PHRASE_RE = re.compile(r"\b(?:" + CUE_PHRASES + r")\b", re.IGNORECASE)


ASCII_WORD = re.compile(r"[A-Za-z]+")


def cues_in(text: str) -> list[tuple[int, int, str]]:
    """Cue words and phrases in `text` with offsets; single words by set lookup, which is much
    faster than one large alternation."""
    found = [(m.start(), m.end(), m.group()) for m in ASCII_WORD.finditer(text) if m.group().lower() in SPEECH_VERBS]
    found.extend((m.start(), m.end(), m.group()) for m in CUE_PHRASE_RE.finditer(text))
    return sorted(found)


POST_SPEAKER_FIRST = re.compile(
    r"^[\s,;]*(?:[—–-]+\s*)?(?P<np>[^“”\"\n]{1,160}?)\s+(?:" + ADVERB + r"\s+){0,3}(?P<cue>" + CUE + r")\b",
    re.IGNORECASE,
)


POST_CUE_FIRST = re.compile(
    r"^[\s,;]*(?:[—–-]+\s*)?(?:"
    + ADVERB
    + r"\s+)?(?P<cue>"
    + CUE
    + r")\s+(?P<np>(?:"
    + TITLE_ABBREVIATION
    + r"|[^“”\"\n.!?;]){1,160})",
    re.IGNORECASE,
)


CUE_NEXT = re.compile(r"\s+(?:" + CUE + r")\b", re.IGNORECASE)


NAME_THEN_CUE_NEXT = re.compile(
    r"\s+(?:[A-Z][\w.’'-]*\s+){1,4}(?:" + ADVERB + r"\s+)?(?:" + CUE + r")\b|\s+(?:he|she|they|I|we)\s+(?:" + CUE + r")\b"
)


TRAILING_ADVERBS = re.compile(r"(?:\s+" + ADVERB + r")+\s*$", re.IGNORECASE)


PRE_CUE_FIRST = re.compile(r"^\s*(?P<cue>" + CUE + r")\s+(?P<np>[A-Z][^,:“”\"]{0,60}?)\s*[,:]\s*$")


ACCORDING_TO = re.compile(r"\b(?P<cue>according to|attributed to)\s+(?P<np>[^,.;:“”\"]{2,80})", re.IGNORECASE)


TITLE_LEAD = re.compile(
    r"\b(?:titled|entitled|called|named|dubbed|the song|song|album|single|film|movie|book|show|series|"
    r"documentary|exhibition|hashtag|version of|track|hit|episode|play|musical|novel|poem|article|headline)\s*$",
    re.IGNORECASE,
)


CATCHPHRASE_LEAD = re.compile(r"catchphrase|catch-phrase|motto|slogan|mantra|nickname|known as|so-called", re.IGNORECASE)


CHANNEL = re.compile(
    r"\b(?:(?i:in (?:an? |his |her |their |a follow-up )?)(?:caption|interviews?|statement|email|e-mail|post|tweet|video|op-ed|"
    r"letter|podcast|memo|speech|press release|text message|message|comment)|on (?:Instagram|Twitter|X|"
    r"Facebook|TikTok|YouTube|social media|Threads|Reddit|(?:[A-Z][\w’']*\s?){1,4})|told (?:reporters|"
    r"(?:[A-Z][\w’']*\s?){1,4})|tweeted|posted online|wrote online|commented online)",
)


DISCOURSE = re.compile(
    r"^(?:(?:and|but|so|then|also|yet|still|now|meanwhile|however|later|earlier|instead|indeed|"
    r"finally|afterward|afterwards|here|there|even)\b[,\s]*)+",
    re.IGNORECASE,
)


DETERMINER = re.compile(
    r"^(?:a|an|the|one|another|some|several|many|most|two|three|four|few|other|others|his|her|their|its|"
    r"this|that|these|those|any|each|every|no|former|local|longtime|veteran)\b",
    re.IGNORECASE,
)


CROWD = re.compile(
    r"\b(?:fans?|users?|viewers?|followers?|commenters?|commentators? online|people|netizens|supporters|"
    r"audiences?|readers?|observers?|onlookers|listeners|watchers|admirers|another|others|many|"
    r"social media|internet|twitter users|crowds?|everyone|everybody|the public|public|voters?|residents|"
    r"contestants|professionals|celebrities|dancers|stars|colleagues|peers|friends|mourners|critics)\b",
    re.IGNORECASE,
)


ANONYMOUS = re.compile(r"^(?:someone|somebody|one of them|a person|it|one|nobody|anonymous)$", re.IGNORECASE)


# A comma-set aside between a speaker and the cue, or before a clause's subject: "Hillary
# Clinton, at a later press gaggle, said", "Clinton, speaking to reporters, said".
ASIDE = re.compile(
    r"(?:at|in|on|during|after|before|from|with|via|for|while|when|as|upon|amid|speaking|appearing|"
    r"asked|writing|earlier|later|last|this)\b",
    re.IGNORECASE,
)


# "Carson did not name his opponents, but told his supporters, “…”": the cue shares the
# clause's subject.
COORDINATED_PREDICATE = re.compile(r"\b(?:and|but)(?:\s+[a-z]+){0,3}\s*$")


APPOSITIVE_START = re.compile(r"^(?:a|an|the|his|her|their|its|who|former|[\w’']+['’]s)\b", re.IGNORECASE)


# "…” ― Carla Sanchez": a quote signed with a dash and a name, the rest of the paragraph.
SIGNATURE = re.compile(r"[^\S\n]*(?P<dash>[―—–]|--)[^\S\n]*(?P<name>[A-Z][^\n,;:“”\"]{1,60}?)(?:[^\S\n]|\.)*(?=\n|$)")


CLOSING_CUE = re.compile(r"\s+(?:" + CUE + r")[.,]")


APPOSITION = re.compile(r",[^,\n]{1,80},")


TITLED = re.compile(r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Prof|Rev)\.? ")


SUBJECT_PRONOUN = re.compile(r"\s*(He|She)\b")


ROLE_WORDS_BEFORE_NAME = re.compile(
    r"\s*(?:(?!(?:on|in|at|to|of|by|for|with|from|that|about|during|after|before|when|while|this|last|and|but)\b)"
    r"[\w/’'.()-]+\s+){1,5}$",
    re.IGNORECASE,
)


TITLE_SMALL_WORDS = frozenset("a an the of from in on and to for with at by or as is my your our".split())
