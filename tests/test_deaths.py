"""The death register: explicit statements about persons only, evidence kept, corrections stick."""

from __future__ import annotations

import pytest
from support.memory_fixtures import SEED_TEXTS, store_article

from pipeline.errors import InputError
from pipeline.models import Label
from pipeline.desk.people import death_statements, name_key
from pipeline.desk.posthumous import (
    add_death,
    death_register,
    posthumous_flags,
    remove_death,
    update_posthumous,
)
from pipeline.store import Store


@pytest.mark.parametrize(
    ("text", "name", "kind"),
    [
        ("Len Goodman, who passed away in 2023, was honoured by Derek Hough.", "Len Goodman", "subject"),
        ("Fans mourned the death of Matthew Perry at 54.", "Matthew Perry", "death_of"),
        ("Matthew Perry's death shocked fans.", "Matthew Perry", "death_of"),
        ("His friend and mentor, the late Len Goodman, leads the dance.", "Len Goodman", "late"),
        ("Her father, John Smith, died on Monday.", "John Smith", "subject"),
        ("Police said Maria Lopez was shot dead on Friday.", "Maria Lopez", "subject"),
        ("John Lennon was killed in 1980.", "John Lennon", "subject"),
        ("Jane Doe (1950–2023) was a nurse.", "Jane Doe", "obituary"),
        ("Derek Hough and Len Goodman danced. Goodman died in April.", "Len Goodman", "subject"),
        ("RIP Maria Lopez, we will miss you.", "Maria Lopez", "obituary"),
        ("He was the son of late rally driver Tom Brennan.", "Tom Brennan", "late"),
        ("Mourners said goodbye to his father Peter Walsh who died in May.", "Peter Walsh", "subject"),
    ],
)
def test_an_explicit_statement_names_the_person_who_died(text, name, kind):
    found = death_statements(text)
    assert [(d.name, d.kind) for d in found] == [(name, kind)]
    statement = found[0]
    assert text[statement.sentence_start : statement.sentence_end].find(text[statement.start : statement.end]) >= 0


@pytest.mark.parametrize(
    "text",
    [
        "The White House said the soldier was killed in Syria.",  # a building, and no name
        "Nirvana died with Kurt Cobain.",  # a band; Cobain is not the subject
        "Miss Universe was killed off by the network.",  # a title
        "Taylor Swift's cat died last week.",  # the cat died
        "Prince died in 2016 at Paisley Park.",  # one word: never a full name
        "Three people died in the crash near Boston.",
        "Rumors that Justin Bieber died are false.",
        "Tom Hanks did not die in the crash.",
        "Brad Pitt could die in the new film.",
        "Barack Obama (2009–2017) spoke at the dinner.",  # a term of office
        "Kim Kardashian killed it on the red carpet.",  # active 'killed': the killer, if anyone
        "Derek Hough danced on a stage where many dreams have died.",
        "Goodman passed away in April.",  # a surname with no full name in the article
        "Fans wrote RIP under the photo of Tom Hanks.",
        "This song will rip your heart out, Kate Moss said.",
    ],
)
def test_a_mention_near_a_death_word_is_no_death(text):
    assert death_statements(text) == []


def test_a_plural_death_noun_names_everyone_it_covers():
    text = "The jury found him guilty of the murders of Anna Berg and Lars Holm."
    assert [(d.name, d.kind) for d in death_statements(text)] == [("Anna Berg", "death_of"), ("Lars Holm", "death_of")]


def test_the_seed_that_says_len_goodman_died_is_read_as_saying_so():
    assert {d.name for d in death_statements(SEED_TEXTS[0])} == {"Len Goodman"}
    assert death_statements(SEED_TEXTS[2]) == []  # mentions him, says nothing of his death


NEWS = "LONDON - Strictly judge Len Goodman died on Saturday aged 78, his agent said. He was a ballroom champion."


def _insight(store: Store, *articles: tuple[str, str]) -> list:
    return update_posthumous(store, lambda: [(article_id, text, []) for article_id, text in articles])


def test_a_fabrication_alone_registers_nobody_and_news_does(tmp_path):
    with Store(tmp_path / "d.db") as store:
        store_article(store, "fab", SEED_TEXTS[0], Label.likely_fabrication)
        _insight(store, ("fab", SEED_TEXTS[0]))
        assert death_register(store) == []
        store_article(store, "news", NEWS, Label.news)
        _insight(store, ("news", NEWS))
        [entry] = death_register(store)
    assert entry.name == "Len Goodman" and not entry.by_desk
    assert [(e.article_id, e.kind) for e in entry.evidence] == [("news", "subject")]
    assert entry.evidence[0].sentence.startswith("LONDON - Strictly judge Len Goodman died")


def test_a_removal_sticks_and_drops_the_flags_resting_on_it(tmp_path):
    acting = "Len Goodman was honoured on Sunday. Len smiles at the crowd, and the crowd cheers."
    with Store(tmp_path / "d.db") as store:
        store_article(store, "news", NEWS, Label.news)
        store_article(store, "later", acting, Label.news)
        flags = _insight(store, ("news", NEWS), ("later", acting))
        assert {(f.article_id, f.person, f.evidence_article_id) for f in flags} == {("later", "Len Goodman", "news")}
        remove_death(store, "len  GOODMAN")
        assert death_register(store) == []
        assert posthumous_flags(store) == []
        assert _insight(store, ("news", NEWS), ("later", acting)) == []  # the same evidence: still removed
        assert death_register(store) == []
        with pytest.raises(InputError, match="not in the death register"):
            remove_death(store, "Len Goodman")
        entry = add_death(store, "Len Goodman", date="2023-04-22", source="https://example.org/obituary")
        assert entry.by_desk and entry.evidence == []  # the removed evidence stays removed
        assert [f.evidence_article_id for f in _insight(store, ("later", acting))] == [None]


def test_name_keys_ignore_case_spacing_and_apostrophe_forms():
    assert name_key("  Sinéad  O’Connor ") == name_key("sinéad o'connor")


def test_new_evidence_flags_an_article_analysed_before_it_and_a_relabel_unflags_it(tmp_path):
    acting = "Len Goodman was honoured on Sunday. Len smiles at the crowd, and the crowd cheers."
    with Store(tmp_path / "d.db") as store:
        store_article(store, "earlier", acting, Label.news)
        assert _insight(store, ("earlier", acting)) == []
        store_article(store, "news", NEWS, Label.news)
        assert _insight(store, ("news", NEWS)) == []  # this pass's own articles have no flag ...
        # ... but the article stored before the evidence now has one, resting on it.
        assert [(f.article_id, f.person, f.evidence_article_id) for f in posthumous_flags(store)] == [
            ("earlier", "Len Goodman", "news")
        ]
        store_article(store, "news", NEWS, Label.likely_fabrication)  # re-analysed: now labelled fabricated
        _insight(store, ("news", NEWS))
        assert death_register(store) == [] and posthumous_flags(store) == []
