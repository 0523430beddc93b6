"""Known fact-checks: every ClaimReview shape read, re-import updates, matches carried."""

from __future__ import annotations

import json

import pytest
from support.memory_fixtures import CLAIM_REVIEW as REVIEW
from support.memory_fixtures import SEED_TEXTS, store_article

from pipeline.errors import InputError
from pipeline.desk.factchecks import (
    factcheck_evidence,
    factcheck_matches,
    import_factchecks,
    is_debunk,
    list_factchecks,
    match_results,
    match_text,
    parse_claimreviews,
)
from pipeline.models import ClaimDraft, Label, Priority
from pipeline.store import Store


def test_every_published_shape_is_read():
    feed = {
        "@context": "https://schema.org",
        "@type": "DataFeed",
        "dataFeedElement": [{"@type": "DataFeedItem", "item": [REVIEW]}, {"@type": "DataFeedItem", "item": REVIEW}],
    }
    tools = {
        "claims": [
            {
                "text": "Len Goodman is alive.",
                "claimant": "posts",
                "claimReview": [
                    {
                        "publisher": {"name": "Other Checks"},
                        "url": "https://o.example/1",
                        "textualRating": "Pants on Fire",
                        "reviewDate": "2026-01-01",
                    }
                ],
            }
        ]
    }
    for data in (REVIEW, [REVIEW], {"@context": "https://schema.org", "@graph": [REVIEW]}, feed):
        checks = parse_claimreviews(data, "f.json")
        assert {(c.url, c.publisher, c.rating, c.claimant) for c in checks} == {
            (REVIEW["url"], "Example Checks", "False", "viral posts")
        }
        assert checks[0].appearances == ("https://viral.example.net/a-dance",)
    [check] = parse_claimreviews(tools, "t.json")
    assert (check.claim_reviewed, check.publisher, check.rating) == ("Len Goodman is alive.", "Other Checks", "Pants on Fire")
    assert is_debunk(check.rating) and is_debunk("FALSE.") and not is_debunk("True") and not is_debunk(None)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ([REVIEW, {"@type": "ClaimReview", "url": "https://x.example"}], r"f\.json: \$\[1\]: ClaimReview without claimReviewed"),
        ({"hello": 1}, r"f\.json: \$: not a ClaimReview"),
        ([REVIEW, 3], r"f\.json: \$\[1\]: expected a ClaimReview object, found int"),
        ([], "no ClaimReview in the file"),
    ],
)
def test_a_malformed_file_names_the_item(data, message):
    with pytest.raises(InputError, match=message):
        parse_claimreviews(data, "f.json")


def test_a_reimport_updates_and_a_bad_file_imports_nothing(tmp_path):
    good, bad = tmp_path / "good.json", tmp_path / "bad.json"
    good.write_text(json.dumps([REVIEW]))
    bad.write_text("{not json")
    with Store(tmp_path / "f.db") as store:
        assert import_factchecks(store, [good])["added"] == 1
        good.write_text(json.dumps([{**REVIEW, "reviewRating": {"alternateName": "Mostly false"}}]))
        counts = import_factchecks(store, [good])
        assert (counts["added"], counts["updated"]) == (0, 1)
        assert [c.rating for c in list_factchecks(store)] == ["Mostly false"]
        with pytest.raises(InputError, match="bad.json"):
            import_factchecks(store, [good, bad])
        assert len(list_factchecks(store)) == 1
        assert len(match_text(store, REVIEW["claimReviewed"])) == 1  # the index holds one row, not two


def test_the_seed_and_its_claim_match_the_check_and_an_unrelated_article_does_not(tmp_path):
    path = tmp_path / "checks.json"
    path.write_text(json.dumps(REVIEW))
    claim = ClaimDraft(
        event="Derek Hough released a previously unseen video of a dance with Len Goodman",
        who="Derek Hough",
        when="",
        where="",
        attributed_to="",
        why=[],
        check_with="Derek Hough's publicist",
        priority=Priority.high,
    )
    with Store(tmp_path / "f.db") as store:
        store_article(
            store,
            "seed",
            SEED_TEXTS[0],
            Label.likely_fabrication,
            claims=[claim],
            title="A Dance from Heaven: Derek Hough releases unseen video with Len Goodman",
        )
        store_article(store, "budget", "The council approved its budget on Monday, the mayor said.", Label.news)
        import_factchecks(store, [path])
        matches = factcheck_matches(store)
        assert set(matches) == {"seed"}
        assert {m.target for m in matches["seed"]} == {"article", "claim:0"}
        assert matches["seed"][0].to_record().keys() == {"url", "publisher", "rating", "claim_reviewed", "score", "target"}
        [line] = factcheck_evidence(matches["seed"])
        assert line.startswith("already fact-checked: rated False by Example Checks")
        assert match_results(store, store.iter_results()) == 2  # a re-run re-matches, never duplicates
        assert sum(len(found) for found in factcheck_matches(store).values()) == 2


def test_a_check_about_someone_else_does_not_match(tmp_path):
    path = tmp_path / "checks.json"
    path.write_text(json.dumps({**REVIEW, "claimReviewed": "Mark Ballas released a never-before-seen dance video."}))
    with Store(tmp_path / "f.db") as store:
        import_factchecks(store, [path])
        assert match_text(store, "Derek Hough released a never-before-seen dance video.") == []
