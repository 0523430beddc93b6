"""Text helpers shared by the offline rules, the quotation scanner and the verifier:
paragraphs, sentences, words and names."""

from __future__ import annotations

import re
from functools import lru_cache

__all__ = [
    "WORD_RE",
    "NAME_RE",
    "PRONOUNS",
    "SPEECH_VERBS",
    "NON_PERSON",
    "OTHER_GENDER_TITLE",
    "paragraphs",
    "sentences",
    "sentence_start",
    "sentence_end",
    "words",
    "person_names",
]

WORD_RE = re.compile(r"[A-Za-z][A-Za-z'’-]*|\d[\d,.]*%?")

# Titles that may precede a name; abbreviations that must not end a sentence.
_TITLES = r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Prof|Rev|Capt|Pres|Sir|Dame|Lord|Lady)"
_ABBREVIATIONS = re.compile(
    r"(?:\b"
    + _TITLES[3:-1]
    + r"|\b[A-Z]|\bU\.S|\bU\.K|\bSt|\bJr|\bSr|\bNo|\bvs|\bJan|\bFeb|\bAug|\bSept?|\bOct|\bNov|\bDec|\be\.g|\bi\.e)\.$"
)
# Accented Latin letters are name letters too ("Raúl", "Muñoz"). A name word is a run of name
# letters with a lower-case one in it: the run before that letter is bounded and every run is
# possessive, so a long run without one ("A-A-A-…") costs a bounded scan per start, not the
# rest of the run (quadratic over the text).
_NAME_WORD = r"[A-Z][A-ZÀ-ÖØ-Þ'’-]{0,40}+[a-zß-öø-ÿ][a-zA-ZÀ-ÖØ-öø-ÿ'’-]*+|[A-Z]\.(?:[A-Z]\.)*|[A-Z]{2,}+(?=\s+[A-Z][a-z])"
# The lookahead lets the scan skip every position that cannot start a name at once.
NAME_RE = re.compile(
    r"(?=[A-Z])(?:\b" + _TITLES + r"\.?[ \t]+)?\b(?:" + _NAME_WORD + r")"
    r"(?:[ \t]+(?:(?:de|van|von|der|la|le|bin|al|da|di|du|del)[ \t]+)?(?:" + _NAME_WORD + r"))*"
)

SPEECH_VERBS = frozenset(
    (
        "said says say saying told tells tell wrote writes write writing added adds adding tweeted tweets "
        "posted posts commented comments noted notes explained explains explaining recalled recalls "
        "revealed reveals continued continues stated states declared declares asked asks replied replies "
        "responded responds insisted insists argued argues claimed claims warned warns whispered whispers "
        "shared shares joked jokes admitted admits acknowledged acknowledges announced announces "
        "emphasized emphasised stressed stresses observed observes remarked remarks quipped quips "
        "exclaimed exclaims concluded concludes confirmed confirms wondered wonders shouted shouts yelled "
        "mused muses predicted predicts promised promises vowed vows urged urges conceded concedes "
        "countered counters captioned reflected reflects boasted boasts complained complains lamented "
        "laments suggested suggests cautioned cautions described describes called calls call describing "
        "recounted recounts testified answered answers contended contends agreed agrees texted emailed "
        "messaged sang sings read reads offered offers pleaded pleads charged thundered chanted chants "
        "screamed cried cries gushed gushes raved raves hailed hails dubbed telling demanded demands "
        "continuing announcing reminded reminds assured assures proclaimed proclaims"
    ).split()
)
"""Verbs that attribute speech (said, wrote, tweeted...)."""

NON_PERSON = re.compile(
    r"\b(?:Institute|University|College|School|Party|Committee|House|News|Times|Post|Forum|Association|"
    r"Department|Council|Company|Inc|Corp|Club|Academy|Center|Centre|Foundation|Commission|Court|Senate|"
    r"Congress|Republicans|Democrats|America|States|Street|Journal|Network|Media|Group|Stars|Channel|"
    r"Dancing|Morning|Campaign|Administration|Agency|Bureau|Ministry|Office|Service|Union|Nations|"
    r"Church|Hospital|Records|Studios|Magazine|Press|Television|Radio|Heaven|God|Instagram|Twitter|"
    r"YouTube|Facebook|TikTok|Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|January|February|"
    r"March|April|June|July|August|September|October|November|December)\b"
)
"""Capitalised words that mark a name as an organisation, place, work or date, not a person."""

OTHER_GENDER_TITLE = {"he": re.compile(r"(?:Mrs|Ms|Miss|Dame|Lady)\b"), "she": re.compile(r"(?:Mr|Sir|Lord)\b")}
"""For "he" and "she", the titles that start a name the pronoun cannot stand for."""

_POSSESSIVE = re.compile(r"['’]s$")

PRONOUNS = frozenset({"he", "she", "i", "we", "they", "it", "who", "you"})

# Capitalised words that start sentences or name things other than people.
_NOT_NAME_START = frozenset(
    """a an the this that these those it its he she his her they their we our i you your my
    but and or so yet then now when while after before as if in on at of for with from by to
    into about over under since during within without because although though however still
    also even just only meanwhile later earlier there here what which who where why how
    one another some many most several every each all no not more other others both
    monday tuesday wednesday thursday friday saturday sunday january february march april may
    june july august september october november december today yesterday tonight
    asked according instead despite like unlike among amid across""".split()
)


_PARAGRAPH = re.compile(r"[^\n]+")


def paragraphs(text: str) -> list[tuple[int, int]]:
    """(start, end) of every non-blank line; the seeds and most feeds put one paragraph a line."""
    return [match.span() for match in _PARAGRAPH.finditer(text) if not match.group().isspace()]


# A run of end marks is matched from its first mark only and never backtracked into, so a
# long run ("!!!!…") is scanned once, not once per mark.
_SENTENCE_END = re.compile(r"(?<![.!?…])[.!?…]++[”\"’')\]]*+(?=\s+[\"“‘'(\[]?[A-Z0-9])|\n+")


def sentences(text: str, start: int = 0, end: int | None = None) -> tuple[tuple[int, int], ...]:
    """(start, end) of each sentence in text[start:end], trimmed of surrounding whitespace; an
    article's stages read its whole-text sentences once, from ``ParsedArticle.sentences``."""
    end = len(text) if end is None else end
    spans: list[tuple[int, int]] = []
    begin = start
    for match in _SENTENCE_END.finditer(text, start, end):
        if match.group()[0] == "." and _ABBREVIATIONS.search(text, max(begin, match.start() - 6), match.start() + 1):
            continue
        spans.append((begin, match.end()))
        begin = match.end()
    spans.append((begin, end))
    trimmed = []
    for s, e in spans:
        while s < e and text[s].isspace():
            s += 1
        while e > s and text[e - 1].isspace():
            e -= 1
        if e > s:
            trimmed.append((s, e))
    return tuple(trimmed)


def words(text: str) -> list[str]:
    return WORD_RE.findall(text)


@lru_cache(maxsize=4096)
def person_names(text: str) -> tuple[tuple[int, int, str], ...]:
    """Capitalised name sequences that can stand for a person, with offsets; a leading
    sentence-initial function word is dropped ("But Derek Hough" -> "Derek Hough")."""
    found = []
    for match in NAME_RE.finditer(text):
        name = match.group()
        start = match.start()
        if " " in name or "\t" in name:
            tokens = name.split()
            first = 0
            while first < len(tokens) and _bare(tokens[first]) in _NOT_NAME_START:
                if first + 1 < len(tokens):
                    start = text.index(tokens[first + 1], start + len(tokens[first]))
                first += 1
            if first == len(tokens):
                continue
            name = " ".join(tokens[first:])
        elif _bare(name) in _NOT_NAME_START:
            continue
        if name[-1] == "s":
            name = _POSSESSIVE.sub("", name)
        found.append((start, start + len(name), name))
    return tuple(found)


def _bare(word: str) -> str:
    """The word lower-cased without a possessive or a trailing period, for the stop-list."""
    if "'" in word or "’" in word:
        word = _POSSESSIVE.sub("", word)
    return word.lower().strip(".")


_SENTENCE_BREAK = re.compile(r"[.!?…](?:[”’\"')\]]*)\s+(?=[“\"‘'(\[]?[A-Z0-9])")


def sentence_start(text: str, lower: int, position: int) -> int:
    """Where the sentence holding `position` begins, not looking before `lower`."""
    start = lower
    # The break's lookahead reads the mark and letter at `position`, so search a little past it.
    for match in _SENTENCE_BREAK.finditer(text, lower, position + 2):
        if match.end() > position:
            break
        if match.group()[0] == "." and _ABBREVIATIONS.search(text, max(lower, match.start() - 6), match.start() + 1):
            continue
        start = match.end()
    return start


def sentence_end(text: str, position: int, upper: int) -> int:
    """Where the sentence running at `position` ends (its final mark), not looking past `upper`."""
    for match in re.finditer(r"[.!?…]", text[position:upper]):
        at = position + match.start()
        if match.group() == "." and _ABBREVIATIONS.search(text, max(position, at - 6), at + 1):
            continue
        return at
    return upper
