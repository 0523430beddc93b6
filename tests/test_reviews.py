"""The desk's verdicts: stored with who and when, all-or-nothing CSV import, figures."""

from __future__ import annotations

import pytest
from support.memory_fixtures import store_article

from pipeline.errors import InputError
from pipeline.models import Label
from pipeline.desk.reviews import add_review, import_reviews, review_figures, review_statuses, reviews
from pipeline.store import Store


def test_reviews_settle_articles_and_bad_csv_writes_nothing(tmp_path):
    with Store(tmp_path / "r.db") as store:
        store_article(store, "aaaa1", "One story.", Label.likely_fabrication)
        store_article(store, "bbbb2", "Another story.", Label.likely_fabrication)
        review = add_review(store, "aaaa1", "false_positive", note="real", by="ann")
        assert (review.verdict.value, review.reviewed_by, review.article_ids) == ("false_positive", "ann", ("aaaa1",))
        assert review_statuses(store)["aaaa1"].settled
        with pytest.raises(InputError, match="unknown verdict"):
            add_review(store, "aaaa1", "wrong")
        with pytest.raises(InputError, match="no stored article or story"):
            add_review(store, "zzzz", "accurate")
        bad = tmp_path / "bad.csv"
        bad.write_text("article_id,verdict\nbbbb2,confirmed_fabrication\naaaa1,nonsense\n")
        with pytest.raises(InputError, match=r"bad.csv: row 3: unknown verdict 'nonsense'"):
            import_reviews(store, bad)
        nocol = tmp_path / "nocol.csv"
        nocol.write_text("article_id,label\nbbbb2,x\n")
        with pytest.raises(InputError, match="no 'verdict' column"):
            import_reviews(store, nocol)
        assert len(reviews(store)) == 1
        good = tmp_path / "good.csv"
        good.write_text("article_id,verdict,note\nbbbb2,confirmed_fabrication,invented\naaaa1,,\n")
        assert [r.article_ids for r in import_reviews(store, good, by="bo")] == [("bbbb2",)]
        figures = review_figures(store)["overall"]
    assert (figures["tp"], figures["fp"], figures["precision"], figures["recall"]) == (1, 1, 0.5, 1.0)
