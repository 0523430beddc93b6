"""Attribution by rule: the cue and speaker after a quotation (", he said", a dash
signature), before it ("Mook told CBS, ", "according to"), or in the lead-in that names
someone."""

from __future__ import annotations

import re
from dataclasses import dataclass

from pipeline.models import SpeakerKind
from pipeline.offline.lexicon import (
    ACCORDING_TO,
    CHANNEL,
    COORDINATED_PREDICATE,
    CUE_NEXT,
    NAME_THEN_CUE_NEXT,
    POST_CUE_FIRST,
    POST_SPEAKER_FIRST,
    PRE_CUE_FIRST,
    SIGNATURE,
    SUBJECT_PRONOUN,
    TRAILING_ADVERBS,
    cues_in,
)
from pipeline.offline.speakers import (
    Speaker,
    clause_subject,
    is_name,
    role_then_name,
    speaker_from_phrase,
)
from pipeline.quotations import QuotationSpan
from pipeline.text import (
    NON_PERSON,
    PRONOUNS,
    person_names,
    sentence_end,
    sentence_start,
)

__all__ = ["Attribution", "post_attribution", "pre_attribution", "channel_of", "context_attribution"]


@dataclass
class Attribution:
    speaker: Speaker | None
    cue: str
    channel: str | None
    clause_end: int


def post_attribution(text: str, seg: QuotationSpan, upper: int) -> Attribution | None:
    end = sentence_end(text, seg.close_end, upper)
    clause = text[seg.close_end : end]
    signed = SIGNATURE.match(text, seg.close_end, upper)
    if signed and is_name(signed.group("name")):
        name = signed.group("name")
        return Attribution(Speaker(name, signed.start("name"), SpeakerKind.named), signed.group("dash"), None, signed.end())
    if not clause.strip() or clause.lstrip()[:1] not in (",", "—", "–", "-") and not re.match(r"\s*[a-zA-Z]", clause):
        return None
    if re.match(
        r"[\s,;—–-]*(?:while|and|but|or|as|because|although|though|when|whereas|so|which|who|that|if)\b",
        clause,
        re.IGNORECASE,
    ):
        return None
    last_inner = text[seg.start : seg.end].rstrip("”’'\" ")[-1:]
    if last_inner == ".":
        return None
    if seg.closed and last_inner not in ",?!—–-…:" and not clause.lstrip().startswith((",", "—", "–")):
        if not CUE_NEXT.match(clause) and not NAME_THEN_CUE_NEXT.match(clause):
            return None
    for pattern in (POST_CUE_FIRST, POST_SPEAKER_FIRST):
        match = pattern.match(clause)
        if not match:
            continue
        np = match.group("np")
        if pattern is POST_SPEAKER_FIRST and (len(np.split()) > 16 or cues_in(np)):
            continue
        if pattern is POST_CUE_FIRST:
            names = person_names(np)
            if names and names[0][0] == len(np) - len(np.lstrip()):
                np = np[: names[0][1]]
            if (
                not re.match(
                    r"\s*(?:[A-Z]|an?\s|the\s|one\s|another|his\s|her\s|their\s|fans|users|people|many|others|several|some)",
                    np,
                )
                and np.strip().lower() not in PRONOUNS
            ):
                np = role_then_name(np)
                if np is None:
                    continue
        speaker = speaker_from_phrase(np, seg.close_end + match.start("np"), prefer_last=False)
        if speaker is None:
            continue
        return Attribution(speaker, match.group("cue"), channel_of(text[seg.close_end : end]), end)
    return None


def pre_attribution(text: str, lower: int, position: int) -> tuple[Attribution | None, bool]:
    """The attribution that introduces a quote at `position`, and whether the quote is
    embedded in a longer sentence (a mixed quote) rather than led in with a colon or comma."""
    start = sentence_start(text, lower, position)
    lead = text[start:position]
    if not lead.strip():
        return None, False
    introduced = bool(re.search(r"[,:—–]\s*$", lead))
    match = PRE_CUE_FIRST.match(lead)
    if match:
        speaker = speaker_from_phrase(match.group("np"), start + match.start("np"), prefer_last=False)
        return Attribution(speaker, match.group("cue"), channel_of(lead), position), not introduced
    according = next(reversed(list(ACCORDING_TO.finditer(lead))), None)
    if according:
        speaker = speaker_from_phrase(according.group("np"), start + according.start("np"), prefer_last=False)
        return Attribution(speaker, according.group("cue"), channel_of(lead), position), not introduced
    cues = cues_in(lead)
    if not cues:
        return None, True
    cue_start, cue_end, cue = cues[-1]
    tail = lead[cue_end:]
    if len(tail.split()) > (14 if introduced else 8) or re.search(r"[“”\"]", tail):
        return None, True
    np = TRAILING_ADVERBS.sub("", lead[:cue_start])
    if cue.lower().endswith("ing") or COORDINATED_PREDICATE.search(np):
        subject = clause_subject(np, start)
        if subject is not None:
            return Attribution(subject, cue, channel_of(lead), position), not introduced
    speaker = speaker_from_phrase(np[-200:], start + max(0, len(np) - 200), prefer_last=True)
    return Attribution(speaker, cue, channel_of(lead), position), not introduced


def channel_of(clause: str) -> str | None:
    match = CHANNEL.search(clause)
    return match.group().strip() if match else None


def context_attribution(text: str, seg: QuotationSpan, lead: str, paragraph_spans: list[tuple[int, int]]) -> Attribution | None:
    """A quote led in without a speech verb belongs to whoever the lead-in names: the start of
    its own sentence ("his voice echoing in memory:") or, for a quote standing alone, the
    paragraph before ("In his caption, he wrote:", "Derek smiled through tears.")."""
    if lead.strip():
        lead_end = seg.open_at
        lead_start = lead_end - len(lead)
    elif seg.paragraph:
        lead_start, lead_end = paragraph_spans[seg.paragraph - 1]
        lead_start = sentence_start(text, lead_start, lead_end)
    else:
        return None
    sentence = text[lead_start:lead_end]
    if not lead.strip() and (sentence.rstrip().endswith(":") or cues_in(sentence)):
        attribution, _ = pre_attribution(text, lead_start, lead_start + len(sentence.rstrip(" :")))
        if attribution is not None and attribution.speaker is not None:
            return attribution
    colon_led = sentence.rstrip().endswith(":")
    for start, end, name in reversed(person_names(sentence)):
        if NON_PERSON.search(name):
            continue
        after = sentence[end:]
        if re.match(r"['’]s\b", after) or re.match(r"\s+[a-z]", after) or colon_led:
            return Attribution(Speaker(name, lead_start + start, SpeakerKind.named), "", None, lead_end)
    pronoun = SUBJECT_PRONOUN.match(sentence)
    if colon_led and pronoun:
        return Attribution(
            Speaker(pronoun.group(1), lead_start + pronoun.start(1), SpeakerKind.anonymous, pronoun=True),
            "",
            None,
            lead_end,
        )
    return None
