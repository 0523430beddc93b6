"""Claims on the seeds against hand-labelled check-worthy events, and where each says to check."""

from __future__ import annotations

import json
from pathlib import Path

from pipeline.models import Priority, ReasonCode
from pipeline.offline.claims import find_claims

ROOT = Path(__file__).resolve().parents[1]
SEEDS = ROOT / "seeds"
# Each seed's check-worthy events, labelled by hand: the sentence's offsets and what to confirm.
SEED_CLAIMS = json.loads((ROOT / "tests" / "fixtures" / "seed_claims.json").read_text(encoding="utf-8"))
GENERIC = "the first outlet to report it, or a public record of the event"


def _claims(name: str) -> tuple[str, list]:
    text = (SEEDS / name).read_text(encoding="utf-8")
    return text, find_claims(text)


def test_the_labels_are_whole_sentences_of_the_seeds() -> None:
    for name, labels in SEED_CLAIMS.items():
        text = (SEEDS / name).read_text(encoding="utf-8")
        for label in labels:
            sentence = text[label["start"] : label["end"]]
            assert sentence.strip() == sentence and sentence[-1] in '.!?”:"', (name, label)


def test_claim_recall_on_the_hand_labelled_seed_events() -> None:
    found = total = 0
    for name, labels in SEED_CLAIMS.items():
        text, claims = _claims(name)
        events = {claim.event for claim in claims}
        for label in labels:
            total += 1
            found += text[label["start"] : label["end"]][:400] in events
    # Measured: 27 of 41 (0.66); a regression in what the engine catches fails here.
    assert total == 41
    assert found / total >= 27 / 41, f"claim recall {found}/{total}"


def test_check_with_names_a_source_from_the_sentence_not_one_generic_line() -> None:
    claims = [claim for name in SEED_CLAIMS for claim in _claims(name)[1]]
    generic = [claim.event for claim in claims if claim.check_with == GENERIC]
    # Measured: 6 of 48, colour ("And that joy never dies.") naming no person, platform, outlet
    # or source: the plain instruction, not an obituary or "the people named".
    assert len(generic) <= 6, generic
    for claim in claims:
        assert "Len Goodman's representatives" not in claim.check_with
        assert "the people named" not in claim.check_with and "the person named" not in claim.check_with
        assert not ("obituary" in claim.check_with and "Derek Hough" in claim.check_with), claim


def test_check_with_by_what_the_sentence_names() -> None:
    def check_with(text: str) -> str:
        (claim,) = [claim for claim in find_claims(text) if claim.event == text]
        return claim.check_with

    assert "unnamed fan" in check_with("“It was unforgettable, truly a miracle,” one fan wrote after the show.")
    assert check_with("A long-lost performance, hidden for years in a Chicago studio vault, has finally surfaced.").startswith(
        "the Chicago studio"
    )
    assert check_with("When the clip surfaced online through a private screening event, the internet erupted.") == (
        "the account or outlet that first posted the clip"
    )


def test_a_view_count_or_a_crowd_reaction_is_no_uncorroborated_event() -> None:
    def claim(text: str):
        (found,) = [claim for claim in find_claims(text) if claim.event == text]
        return found

    viral = claim("Within hours the story amassed millions of views and fans across the globe were left speechless.")
    assert viral.why == [ReasonCode.viral_metrics] and viral.priority is not Priority.high
    crowd = [c for c in find_claims("Fans around the world flooded social media with heartfelt messages after the news broke.")]
    assert all(ReasonCode.uncorroborated_event not in c.why for c in crowd)
    interview = claim("In interviews afterward, the coach spoke quietly about what the season had cost the team.")
    assert interview.why == [ReasonCode.uncorroborated_event]
