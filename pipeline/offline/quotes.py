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
from bisect import bisect_left, bisect_right, insort
from dataclasses import dataclass, field
from functools import cached_property

from pipeline.models import QuoteDraft, SpeakerKind, VerifiedQuote
from pipeline.quotations import QuotationSpan, quotation_spans
from pipeline.attribution import attribution_links
from pipeline.verify import verify_quotes
from pipeline.text import NON_PERSON, PRONOUNS, SPEECH_VERBS, paragraphs, person_names, sentences

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
    attribution_start: int | None = None
    mark_spans: list[tuple[int, int]] = field(default_factory=list)

    @property
    def start(self) -> int:
        return self.spans[0][0]

    @property
    def end(self) -> int:
        return self.spans[-1][1]


_CUE_PHRASES = r"pointed out|points out|went on|goes on|chimed in|put it|puts it|according to|referred to \w+ as|summed it up|weighed in"
CUE = r"(?:" + _CUE_PHRASES + r"|" + "|".join(sorted(SPEECH_VERBS, key=len, reverse=True)) + r")"
_ADVERB = (
    r"(?:softly|quietly|once|later|simply|then|also|recently|previously|again|just|reportedly|allegedly|"
    r"earlier|angrily|firmly|proudly|tearfully|jokingly|bluntly|flatly|frankly|candidly|publicly|"
    r"privately|famously|often|has|had|have|would|will|was|is|did|does|could|might|once|even|"
    r"reportedly|emotionally|warmly|simply|finally|succinctly|repeatedly|only|further|afterward)"
)
_TITLE_ABBREVIATION = r"\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Prof|Rev|Capt|St|Jr|Sr|[A-Z])\."
_CUE_PHRASE_RE = re.compile(r"\b(?:" + _CUE_PHRASES + r")\b", re.IGNORECASE)
_WORD = re.compile(r"[A-Za-z]+")


def _cues(text: str) -> list[tuple[int, int, str]]:
    """Cue words and phrases in `text` with offsets; single words by set lookup, which is much
    faster than one large alternation."""
    found = [(m.start(), m.end(), m.group()) for m in _WORD.finditer(text) if m.group().lower() in SPEECH_VERBS]
    found.extend((m.start(), m.end(), m.group()) for m in _CUE_PHRASE_RE.finditer(text))
    return sorted(found)


_POST_SPEAKER_FIRST = re.compile(
    r"^[\s,;]*(?:[—–-]+\s*)?(?P<np>[^“”\"\n]{1,160}?)\s+(?:" + _ADVERB + r"\s+){0,3}(?P<cue>" + CUE + r")\b",
    re.IGNORECASE,
)
_POST_CUE_FIRST = re.compile(
    r"^[\s,;]*(?:[—–-]+\s*)?(?:" + _ADVERB + r"\s+)?(?P<cue>" + CUE + r")\s+(?P<np>(?:" + _TITLE_ABBREVIATION + r"|[^“”\"\n.!?;]){1,160})",
    re.IGNORECASE,
)
_CUE_NEXT = re.compile(r"\s+(?:" + CUE + r")\b", re.IGNORECASE)
_NAME_THEN_CUE_NEXT = re.compile(
    r"\s+(?:[A-Z][\w.’'-]*\s+){1,4}(?:" + _ADVERB + r"\s+)?(?:" + CUE + r")\b|\s+(?:he|she|they|I|we)\s+(?:" + CUE + r")\b"
)
_TRAILING_ADVERBS = re.compile(r"(?:\s+" + _ADVERB + r")+\s*$", re.IGNORECASE)
_PRE_CUE_FIRST = re.compile(r"^\s*(?P<cue>" + CUE + r")\s+(?P<np>[A-Z][^,:“”\"]{0,60}?)\s*[,:]\s*$")
_ACCORDING_TO = re.compile(r"\b(?P<cue>according to|attributed to)\s+(?P<np>[^,.;:“”\"]{2,80})", re.IGNORECASE)
_TITLE_LEAD = re.compile(
    r"\b(?:titled|entitled|called|named|dubbed|the song|song|album|single|film|movie|book|show|series|"
    r"documentary|exhibition|hashtag|version of|track|hit|episode|play|musical|novel|poem|article|headline)\s*$",
    re.IGNORECASE,
)
_CATCHPHRASE_LEAD = re.compile(r"catchphrase|catch-phrase|motto|slogan|mantra|nickname|known as|so-called", re.IGNORECASE)
_CHANNEL = re.compile(
    r"\b(?:(?i:in (?:an? |his |her |their |a follow-up )?)(?:caption|interviews?|statement|email|e-mail|post|tweet|video|op-ed|"
    r"letter|podcast|memo|speech|press release|text message|message|comment)|on (?:Instagram|Twitter|X|"
    r"Facebook|TikTok|YouTube|social media|Threads|Reddit|(?:[A-Z][\w’']*\s?){1,4})|told (?:reporters|"
    r"(?:[A-Z][\w’']*\s?){1,4})|tweeted|posted online|wrote online|commented online)",
)
_DISCOURSE = re.compile(
    r"^(?:(?:and|but|so|then|also|yet|still|now|meanwhile|however|later|earlier|instead|indeed|"
    r"finally|afterward|afterwards|here|there|even)\b[,\s]*)+",
    re.IGNORECASE,
)
_DETERMINER = re.compile(
    r"^(?:a|an|the|one|another|some|several|many|most|two|three|four|few|other|others|his|her|their|its|"
    r"this|that|these|those|any|each|every|no|former|local|longtime|veteran)\b",
    re.IGNORECASE,
)
_CROWD = re.compile(
    r"\b(?:fans?|users?|viewers?|followers?|commenters?|commentators? online|people|netizens|supporters|"
    r"audiences?|readers?|observers?|onlookers|listeners|watchers|admirers|another|others|many|"
    r"social media|internet|twitter users|crowds?|everyone|everybody|the public|public|voters?|residents|"
    r"contestants|professionals|celebrities|dancers|stars|colleagues|peers|friends|mourners|critics)\b",
    re.IGNORECASE,
)
_ANONYMOUS = re.compile(r"^(?:someone|somebody|one of them|a person|it|one|nobody|anonymous)$", re.IGNORECASE)
# A comma-set aside between a speaker and the cue, or before a clause's subject: "Hillary
# Clinton, at a later press gaggle, said", "Clinton, speaking to reporters, said".
_ASIDE = re.compile(
    r"(?:at|in|on|during|after|before|from|with|via|for|while|when|as|upon|amid|speaking|appearing|"
    r"asked|writing|earlier|later|last|this)\b",
    re.IGNORECASE,
)
# "Carson did not name his opponents, but told his supporters, “…”": the cue shares the
# clause's subject.
_COORDINATED_PREDICATE = re.compile(r"\b(?:and|but)(?:\s+[a-z]+){0,3}\s*$")
_APPOSITIVE_START = re.compile(r"^(?:a|an|the|his|her|their|its|who|former|[\w’']+['’]s)\b", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"[.!?…](?:[”’\"')\]]*)\s+(?=[“\"‘'(\[]?[A-Z0-9])")
_ABBREVIATION_END = re.compile(r"(?:\b(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Lt|Col|Sgt|Prof|Rev|Capt|St|Jr|Sr|U\.S|U\.K|No|vs)|\b[A-Z])\.$")
# "…” ― Carla Sanchez": a quote signed with a dash and a name, the rest of the paragraph.
_SIGNATURE = re.compile(r"[ \t]*(?P<dash>[―—–]|--)[ \t]*(?P<name>[A-Z][^\n,;:“”\"]{1,60}?)[ \t.]*(?=\n|$)")
_CLOSING_CUE = re.compile(r"\s+(?:" + CUE + r")[.,]")
_APPOSITION = re.compile(r",[^,\n]{1,80},")
_SPEAKER_REACH = 1
_TITLED = re.compile(r"(?:Mr|Mrs|Ms|Dr|Sen|Rep|Gov|Gen|Prof|Rev)\.? ")
# Names whose title says they cannot be "he" or "she".
_OTHER_GENDER_TITLE = {"he": re.compile(r"(?:Mrs|Ms|Miss)\b"), "she": re.compile(r"Mr\b")}
_SUBJECT_PRONOUN = re.compile(r"\s*(He|She)\b")
_MIN_UNATTRIBUTED_WORDS = 5
_MIN_EMBEDDED_WORDS = 4
_MIN_STATEMENT_WORDS = 3
_STATEMENT_ENDS = frozenset(".!?,")


def _sentence_start(text: str, lower: int, position: int) -> int:
    """Where the sentence holding `position` begins, not looking before `lower`."""
    start = lower
    # The break's lookahead reads the mark and letter at `position`, so search a little past it.
    for match in _SENTENCE_BREAK.finditer(text, lower, position + 2):
        if match.end() > position:
            break
        if match.group()[0] == "." and _ABBREVIATION_END.search(text, max(lower, match.start() - 5), match.start() + 1):
            continue
        start = match.end()
    return start


def _sentence_end(text: str, position: int, upper: int) -> int:
    for match in re.finditer(r"[.!?…]", text[position:upper]):
        at = position + match.start()
        if match.group() == "." and _ABBREVIATION_END.search(text, max(position, at - 5), at + 1):
            continue
        return at
    return upper


@dataclass
class _Speaker:
    text: str
    start: int
    kind: SpeakerKind
    pronoun: bool = False


def _speaker_from_phrase(phrase: str, offset: int, prefer_last: bool) -> _Speaker | None:
    """The speaker inside a noun phrase next to a cue: a pronoun, a person's name (through
    an appositive such as "Rosette Pambakian, a Tinder spokeswoman"), or a role/crowd phrase."""
    lead = len(phrase) - len(phrase.lstrip(" ,;—–-\t"))
    phrase = phrase[lead:].rstrip(" ,;—–-\t")
    offset += lead
    stripped = _DISCOURSE.sub("", phrase)
    offset += len(phrase) - len(stripped)
    phrase = stripped
    if not phrase:
        return None
    chunks: list[tuple[int, str]] = []
    position = 0
    for piece in phrase.split(","):
        chunks.append((position + len(piece) - len(piece.lstrip()), piece.strip()))
        position += len(piece) + 1
    chunks = [(at, chunk) for at, chunk in chunks if chunk]
    if not chunks:
        return None
    while len(chunks) > 1 and (
        re.match(r"(?:who|which|whose|where)\b", chunks[-1][1], re.IGNORECASE) or prefer_last and _ASIDE.match(chunks[-1][1])
    ):
        chunks.pop()
    first_at, first = chunks[0]
    # "Clinton, exasperated, responded": a lower-case aside after a name is not the speaker.
    if len(chunks) > 1 and _is_name(first) and (not prefer_last or _APPOSITIVE_START.match(chunks[-1][1]) or chunks[-1][1][:1].islower()):
        at, chunk = first_at, first
    else:
        at, chunk = chunks[-1] if prefer_last else chunks[0]
    return _classify_phrase(chunk, offset + at)


def _clause_subject(clause: str, offset: int) -> _Speaker | None:
    """The subject of a clause that a participle cue hangs from ("Trump attacked Clinton in
    Libya, saying, “…”" is Trump): its first pronoun or name, past any aside ("During the
    speech, …"), when only role words come before the name."""
    position = 0
    for piece in clause.split(","):
        at = position + len(piece) - len(piece.lstrip())
        position += len(piece) + 1
        chunk = _DISCOURSE.sub("", piece.strip())
        at += len(piece.strip()) - len(chunk)
        if not chunk or _ASIDE.match(chunk):
            continue
        first = chunk.split()[0]
        if first.lower() in PRONOUNS:
            return _Speaker(first, offset + at, SpeakerKind.anonymous, pronoun=True)
        names = [n for n in person_names(chunk) if not NON_PERSON.search(n[2])]
        if names and not re.match(r"['’]s\b", chunk[names[0][1]:]) and (names[0][0] == 0 or _ROLE_WORDS_BEFORE_NAME.fullmatch(" " + chunk[: names[0][0]])):
            return _Speaker(names[0][2], offset + at + names[0][0], SpeakerKind.named)
        return None
    return None


def _is_name(chunk: str) -> bool:
    names = person_names(chunk)
    return bool(names) and names[0][0] == 0 and names[-1][1] == len(chunk.rstrip(".")) and not NON_PERSON.search(chunk)


def _classify_phrase(chunk: str, offset: int) -> _Speaker | None:
    tokens = chunk.split()
    if not tokens:
        return None
    if len(tokens) > 10:
        cut = len(" ".join(tokens[:-6])) + 1
        chunk, offset, tokens = chunk[cut:], offset + cut, tokens[-6:]
    pronoun = next((t for t in (tokens[-1], tokens[0]) if t.lower() in PRONOUNS), None)
    # "the congressman who gained attention in 2009 when he": the clause's own subject speaks.
    if pronoun and (len(tokens) <= 3 or pronoun is tokens[-1]):
        word = pronoun
        return _Speaker(word, offset + chunk.rfind(word), SpeakerKind.anonymous, pronoun=True)
    if _ANONYMOUS.match(chunk):
        return _Speaker(chunk, offset, SpeakerKind.anonymous)
    if _CROWD.match(chunk):
        return _Speaker(chunk, offset, SpeakerKind.crowd)
    starts_indefinite = bool(_DETERMINER.match(chunk))
    names = [n for n in person_names(chunk) if not NON_PERSON.search(n[2])]
    if names and not starts_indefinite:
        start, _, name = names[-1]
        return _Speaker(name, offset + start, SpeakerKind.named)
    if names and starts_indefinite and names[0][0] > 0 and _is_name(chunk[names[-1][0]:]) and chunk.endswith(names[-1][2]):
        # "former Florida Gov. Rick Scott": a role followed by the name it belongs to.
        start, _, name = names[-1]
        if not re.search(r"\b(?:of|to|for|close|near|with|from|at)\s+[\w’']*\s*$", chunk[:start]):
            return _Speaker(name, offset + start, SpeakerKind.named)
    if _CROWD.search(chunk):
        return _Speaker(chunk, offset, SpeakerKind.crowd)
    if not starts_indefinite and tokens[0][:1].islower() and len(tokens) > 6:
        return None
    return _Speaker(chunk, offset, SpeakerKind.role)


@dataclass
class _Attribution:
    speaker: _Speaker | None
    cue: str
    channel: str | None
    clause_end: int


def _post_attribution(text: str, seg: QuotationSpan, upper: int) -> _Attribution | None:
    end = _sentence_end(text, seg.close_end, upper)
    clause = text[seg.close_end : end]
    signed = _SIGNATURE.match(text, seg.close_end, upper)
    if signed and _is_name(signed.group("name")):
        name = signed.group("name")
        return _Attribution(_Speaker(name, signed.start("name"), SpeakerKind.named), signed.group("dash"), None, signed.end())
    if not clause.strip() or clause.lstrip()[:1] not in (",", "—", "–", "-") and not re.match(r"\s*[a-zA-Z]", clause):
        return None
    if re.match(r"[\s,;—–-]*(?:while|and|but|or|as|because|although|though|when|whereas|so|which|who|that|if)\b", clause, re.IGNORECASE):
        return None
    last_inner = text[seg.start : seg.end].rstrip("”’'\" ")[-1:]
    if last_inner == ".":
        return None
    if seg.closed and last_inner not in ",?!—–-…:" and not clause.lstrip().startswith((",", "—", "–")):
        if not _CUE_NEXT.match(clause) and not _NAME_THEN_CUE_NEXT.match(clause):
            return None
    for pattern, prefer_last in ((_POST_CUE_FIRST, False), (_POST_SPEAKER_FIRST, True)):
        match = pattern.match(clause)
        if not match:
            continue
        np = match.group("np")
        if pattern is _POST_SPEAKER_FIRST and (len(np.split()) > 16 or _cues(np)):
            continue
        if pattern is _POST_CUE_FIRST:
            names = person_names(np)
            if names and names[0][0] == len(np) - len(np.lstrip()):
                np = np[: names[0][1]]
            if not re.match(r"\s*(?:[A-Z]|an?\s|the\s|one\s|another|his\s|her\s|their\s|fans|users|people|many|others|several|some)", np) and np.strip().lower() not in PRONOUNS:
                np = _role_then_name(np)
                if np is None:
                    continue
        speaker = _speaker_from_phrase(np, seg.close_end + match.start("np"), prefer_last=False)
        if speaker is None:
            continue
        return _Attribution(speaker, match.group("cue"), _channel(text[seg.close_end : end]), end)
    return None


_ROLE_WORDS_BEFORE_NAME = re.compile(
    r"\s*(?:(?!(?:on|in|at|to|of|by|for|with|from|that|about|during|after|before|when|while|this|last|and|but)\b)"
    r"[\w/’'.()-]+\s+){1,5}$",
    re.IGNORECASE,
)


def _role_then_name(phrase: str) -> str | None:
    """The part of ", said former congressman Barney Frank, who..." that names the speaker:
    a few role words ending in a person's name, cut at the first comma."""
    phrase = phrase.split(",")[0]
    names = person_names(phrase)
    if not names or names[-1][1] != len(phrase.rstrip()):
        return None
    if not _ROLE_WORDS_BEFORE_NAME.match(phrase[: names[-1][0]]):
        return None
    return phrase


def _pre_attribution(text: str, lower: int, position: int) -> tuple[_Attribution | None, bool]:
    """The attribution that introduces a quote at `position`, and whether the quote is
    embedded in a longer sentence (a mixed quote) rather than led in with a colon or comma."""
    start = _sentence_start(text, lower, position)
    lead = text[start:position]
    if not lead.strip():
        return None, False
    introduced = bool(re.search(r"[,:—–]\s*$", lead))
    match = _PRE_CUE_FIRST.match(lead)
    if match:
        speaker = _speaker_from_phrase(match.group("np"), start + match.start("np"), prefer_last=False)
        return _Attribution(speaker, match.group("cue"), _channel(lead), position), not introduced
    according = None
    for according in _ACCORDING_TO.finditer(lead):
        pass
    if according:
        speaker = _speaker_from_phrase(according.group("np"), start + according.start("np"), prefer_last=False)
        return _Attribution(speaker, according.group("cue"), _channel(lead), position), not introduced
    cues = _cues(lead)
    if not cues:
        return None, True
    cue_start, cue_end, cue = cues[-1]
    tail = lead[cue_end:]
    if len(tail.split()) > (14 if introduced else 8) or re.search(r"[“”\"]", tail):
        return None, True
    np = _TRAILING_ADVERBS.sub("", lead[:cue_start])
    if cue.lower().endswith("ing") or _COORDINATED_PREDICATE.search(np):
        subject = _clause_subject(np, start)
        if subject is not None:
            return _Attribution(subject, cue, _channel(lead), position), not introduced
    speaker = _speaker_from_phrase(np[-200:], start + max(0, len(np) - 200), prefer_last=True)
    return _Attribution(speaker, cue, _channel(lead), position), not introduced


def _channel(clause: str) -> str | None:
    match = _CHANNEL.search(clause)
    return match.group().strip() if match else None


def _kind_without_cue(text: str, seg: QuotationSpan, lead: str, whole_paragraph: bool) -> str:
    inner = text[seg.start : seg.end]
    words = inner.split()
    if _CATCHPHRASE_LEAD.search(lead):
        return QuoteKind.catchphrase
    if _TITLE_LEAD.search(lead) or _looks_like_title(words) and not whole_paragraph:
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


_TITLE_SMALL_WORDS = frozenset("a an the of from in on and to for with at by or as is my your our".split())


def _looks_like_title(words: list[str]) -> bool:
    content = [w for w in words if w.lower() not in _TITLE_SMALL_WORDS]
    return 0 < len(words) <= 9 and bool(content) and all(w[:1].isupper() or w[:1] in "#0123456789" for w in content) and not words[-1].endswith((".", "!", "?", ","))


def scan_quotes(text: str) -> list[QuoteFinding]:
    """Every quoted passage in the article, typed and, for speech, attributed."""
    segments = quotation_spans(text)
    links = attribution_links(text, segments)
    paragraph_spans = list(paragraphs(text))
    persons = _PersonIndex(text, segments)
    findings: list[QuoteFinding] = []
    previous_speech: QuoteFinding | None = None
    index = 0
    while index < len(segments):
        seg = segments[index]
        p_start, p_end = paragraph_spans[seg.paragraph]
        lower = segments[index - 1].close_end if index and segments[index - 1].paragraph == seg.paragraph else p_start
        finding = QuoteFinding(spans=[(seg.start, seg.end)], kind=QuoteKind.speech, embedded=False)
        finding.mark_spans = [(seg.open_at, seg.close_end)]
        chain_end = seg
        # A quote left open at the end of a paragraph runs on into the next one that opens with a mark.
        while not chain_end.closed and index + 1 < len(segments):
            nxt = segments[index + 1]
            if nxt.continues != chain_end.index:
                break
            finding.spans.append((nxt.start, nxt.end))
            finding.mark_spans.append((nxt.open_at, nxt.close_end))
            chain_end = nxt
            index += 1
        following = _next_open(segments, index, paragraph_spans)
        lead_start = _sentence_start(text, lower, seg.open_at)
        lead = text[lead_start : seg.open_at]
        tail_end = _sentence_end(text, chain_end.close_end, following) if chain_end.closed else chain_end.close_end
        tail = text[chain_end.close_end : tail_end]
        whole_paragraph = not lead.strip() and seg.open_at == p_start and not tail.strip()
        inner_words = text[seg.start : seg.end].split()
        pre, embedded = _pre_attribution(text, lower, seg.open_at)
        introduced = pre is not None and pre.speaker is not None and not embedded
        post = _post_attribution(text, chain_end, following) if chain_end.closed and not introduced else None
        if post:
            pre, embedded = None, False
        finding.embedded = embedded or bool(post is None and re.match(r"\s*[a-z(]", tail))
        attribution = post or pre
        sibling = _same_sentence_sibling(text, findings, lead_start, seg.open_at)
        if _CATCHPHRASE_LEAD.search(lead):
            finding.kind, attribution = QuoteKind.catchphrase, None
        elif finding.embedded and (_TITLE_LEAD.search(lead) or _looks_like_title(inner_words)) or (
            _TITLE_LEAD.search(lead) and not re.search(r"[,:]\s*$", lead)
        ):
            finding.kind, attribution = QuoteKind.title, None
        elif sibling is not None and attribution is None:
            finding.kind = _fragment_or(QuoteKind.speech if sibling.kind == QuoteKind.scare else sibling.kind, inner_words)
            finding.speaker, finding.speaker_kind, finding.cue, finding.channel = (
                sibling.speaker, sibling.speaker_kind, sibling.cue, sibling.channel
            )
            finding.embedded = True
            findings.append(finding)
            index += 1
            continue
        elif attribution is None:
            finding.kind = _kind_without_cue(text, seg, lead, whole_paragraph)
            if finding.kind == QuoteKind.speech:
                speaks_on = not whole_paragraph and not lead.strip() and _speaks_on(previous_speech, segments, index)
                if speaks_on and links[index - 1]:
                    assert previous_speech is not None
                    previous_speech.spans.extend(finding.spans)
                    previous_speech.mark_spans.extend(finding.mark_spans)
                    index += 1
                    continue
                if speaks_on or whole_paragraph and _continues(previous_speech, seg, paragraph_spans, text):
                    assert previous_speech is not None
                    _speak_on(finding, previous_speech)
                    findings.append(finding)
                    previous_speech = finding
                    index += 1
                    continue
                attribution = _context_attribution(text, seg, lead, paragraph_spans)
        if finding.embedded:
            finding.kind = _fragment_or(finding.kind, inner_words)
        if finding.kind != QuoteKind.speech and attribution is not None and attribution.speaker is not None:
            _apply(finding, attribution, persons)
        if finding.kind == QuoteKind.speech:
            if attribution is None or attribution.speaker is None:
                finding.speaker_kind = SpeakerKind.anonymous
                finding.cue = attribution.cue if attribution else None
            else:
                _apply(finding, attribution, persons)
            # ", he said, “…”" and ", Mr. Hedge said. ''…''": the next piece continues this quote.
            if post and index + 1 < len(segments):
                nxt = segments[index + 1]
                gap = text[post.clause_end : nxt.open_at]
                if (
                    nxt.paragraph == chain_end.paragraph
                    and re.fullmatch(r"[\s,.:;—–-]*(?:(?:and|then|adding|before adding|continuing)[\s,:]*)?", gap)
                    # "…,” Anderson said, adding that he is “definitely…”: a fragment of the writer's clause.
                    and re.search(r"[,.:;—–-]\s*$", text[chain_end.close_end : nxt.open_at])
                    and _post_attribution(text, nxt, _next_open(segments, index + 1, paragraph_spans)) is None
                ):
                    finding.spans.append((nxt.start, nxt.end))
                    finding.mark_spans.append((nxt.open_at, nxt.close_end))
                    index += 1
            previous_speech = finding
        findings.append(finding)
        index += 1
    return findings


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
    if re.fullmatch(r"[\s,;]*(?:(?:and|or|and even|and then|and his classic|and her classic|as well as)\s*)?(?:[\w’']+\s+){0,2}", between) and "\n" not in between:
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
    return lead_start <= last_close and not re.search(r"\w", text[_sentence_end(text, last_close, lead_end) : lead_end])


def _next_open(segments: tuple[QuotationSpan, ...], index: int, paragraph_spans: list[tuple[int, int]]) -> int:
    seg = segments[index]
    if index + 1 < len(segments) and segments[index + 1].paragraph == seg.paragraph:
        return segments[index + 1].open_at
    return paragraph_spans[seg.paragraph][1]


def _speak_on(finding: QuoteFinding, previous: QuoteFinding) -> None:
    """A quotation that goes on with the previous speaker's without an attribution between
    them is theirs, but its own quote: only quotations of one attribution join into one
    quote (pipeline.attribution.attribution_links)."""
    finding.speaker, finding.speaker_kind, finding.cue, finding.channel = (
        previous.speaker, previous.speaker_kind, previous.cue, previous.channel
    )
    finding.attribution_start = previous.attribution_start


def _apply(finding: QuoteFinding, attribution: _Attribution, persons: _PersonIndex) -> None:
    speaker = attribution.speaker
    assert speaker is not None
    finding.cue = attribution.cue
    finding.channel = attribution.channel
    finding.attribution_start = speaker.start
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


def _context_attribution(
    text: str, seg: QuotationSpan, lead: str, paragraph_spans: list[tuple[int, int]]
) -> _Attribution | None:
    """A quote led in without a speech verb belongs to whoever the lead-in names: the start of
    its own sentence ("his voice echoing in memory:") or, for a quote standing alone, the
    paragraph before ("In his caption, he wrote:", "Derek smiled through tears.")."""
    if lead.strip():
        lead_end = seg.open_at
        lead_start = lead_end - len(lead)
    elif seg.paragraph:
        lead_start, lead_end = paragraph_spans[seg.paragraph - 1]
        lead_start = _sentence_start(text, lead_start, lead_end)
    else:
        return None
    sentence = text[lead_start:lead_end]
    if not lead.strip() and (sentence.rstrip().endswith(":") or _cues(sentence)):
        attribution, _ = _pre_attribution(text, lead_start, lead_start + len(sentence.rstrip(" :")))
        if attribution is not None and attribution.speaker is not None:
            return attribution
    colon_led = sentence.rstrip().endswith(":")
    for start, end, name in reversed(person_names(sentence)):
        if NON_PERSON.search(name):
            continue
        after = sentence[end:]
        if re.match(r"['’]s\b", after) or re.match(r"\s+[a-z]", after) or colon_led:
            return _Attribution(_Speaker(name, lead_start + start, SpeakerKind.named), "", None, lead_end)
    pronoun = _SUBJECT_PRONOUN.match(sentence)
    if colon_led and pronoun:
        return _Attribution(_Speaker(pronoun.group(1), lead_start + pronoun.start(1), SpeakerKind.anonymous, pronoun=True), "", None, lead_end)
    return None


class _PersonIndex:
    """The people an article names, in order, for resolving "he" and "she"; read from the
    text only when a pronoun first needs resolving.

    A pronoun refers to the subject of the latest sentence that names someone, which is the
    first person that sentence names ("Dan McLaughlin agreed with Matthews. ... he wrote" is
    McLaughlin), not simply the nearest name."""

    def __init__(self, text: str, segments: tuple[QuotationSpan, ...]) -> None:
        self._text = text
        self._segments = segments
        self._speakers: list[tuple[int, str]] = []

    @cached_property
    def _named(self) -> list[tuple[int, str]]:
        starts = [seg.start for seg in self._segments]
        ends = [seg.end for seg in self._segments]

        def quoted(position: int) -> bool:
            index = bisect_right(starts, position) - 1
            return index >= 0 and position < ends[index]

        mentions: list[tuple[int, str]] = []
        full_names: dict[str, str] = {}
        outside = [m for m in person_names(self._text) if not quoted(m[0])]
        for start, _, name in outside:
            if NON_PERSON.search(name):
                continue
            parts = [p for p in name.split() if not p.endswith(".")]
            if len(parts) >= 2 or parts and _TITLED.match(name):
                full_names.setdefault(parts[-1], name)
                full_names.setdefault(parts[0], name)
                mentions.append((start, name))
        for start, _, name in outside:
            if " " not in name and name in full_names:
                mentions.append((start, name))
        return sorted(mentions)

    @cached_property
    def _speaking(self) -> list[tuple[int, str]]:
        """The people a sentence opens with as the subject of a speech verb ("Mr. Farid said"),
        or that close a sentence with one (", Henson said.")."""
        subjects = []
        previous_sentence = -1
        for start, name in self._named:
            sentence = self._sentence_of(start)
            end = start + len(name)
            if sentence != previous_sentence and _speech_follows(self._text, end) or _CLOSING_CUE.match(self._text, end):
                subjects.append((start, name))
            previous_sentence = sentence
        return subjects

    @cached_property
    def _sentence_starts(self) -> list[int]:
        return [start for start, _ in sentences(self._text)]

    def note_speaker(self, name: str, start: int) -> None:
        insort(self._speakers, (start, name))

    def _sentence_of(self, position: int) -> int:
        return bisect_right(self._sentence_starts, position)

    def resolve(self, pronoun: str, position: int) -> str | None:
        if pronoun.lower() not in ("he", "she", "i", "who"):
            return None
        excluded = _OTHER_GENDER_TITLE.get(pronoun.lower())
        mentions = sorted(m for m in self._named + self._speakers if not (excluded and excluded.match(m[1])))
        latest = bisect_left(mentions, (position,)) - 1
        if latest < 0:
            return None
        speaking = sorted(m for m in self._speaking + self._speakers if not (excluded and excluded.match(m[1])))
        last_speaker = bisect_left(speaking, (position,)) - 1
        if last_speaker >= 0 and self._sentence_of(position) - self._sentence_of(speaking[last_speaker][0]) <= _SPEAKER_REACH:
            return speaking[last_speaker][1]
        sentence = self._sentence_of(mentions[latest][0])
        first = latest
        while first > 0 and self._sentence_of(mentions[first - 1][0]) == sentence:
            first -= 1
        return mentions[first][1]


def _speech_follows(text: str, position: int) -> bool:
    """Whether a speech verb is among the three words after `position`, past an apposition
    ("Mr. Farid, a professor, said")."""
    apposition = _APPOSITION.match(text, position)
    start = apposition.end() if apposition else position
    following = _WORD.findall(text, start, start + 40)[:3]
    return any(word.lower() in SPEECH_VERBS for word in following)


def find_quotes(text: str) -> list[VerifiedQuote]:
    """Attributed speech in the article, through the one verifier every engine's quotes go
    through; titles, scare quotes and catchphrases are left out as they are not anyone's
    statement."""
    drafts = [
        QuoteDraft(
            speaker=finding.speaker or "unknown",
            speaker_kind=finding.speaker_kind,
            text=" ".join(text[start:end] for start, end in finding.spans),
            cue=finding.cue or None,
            channel=finding.channel,
        )
        for finding in scan_quotes(text)
        if finding.kind == QuoteKind.speech
    ]
    return verify_quotes(text, drafts)[0]
