"""A store holding the offline analysis of the seeds plus a hostile article, with batch
insight computed: what the report, export and browser tests read."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path

from pipeline.desk.insight import update_batch_insight
from pipeline.desk.posthumous import add_death
from pipeline.runs import run
from pipeline.settings import load_settings
from pipeline.store import Store

from . import SEEDS

__all__ = ["SEEDS", "HOSTILE_TEXT", "HOSTILE_TITLE", "analysed_store", "desk_store", "copy_store"]


# Each payload would leave a trace if it ran: the title "PWNED" or an element with id "pwned".
HOSTILE_TEXT = """LONDON (Reuters) - A council spokesperson said on Monday that the <script>document.title='PWNED';document.body.insertAdjacentHTML('beforeend','<div id=pwned></div>')</script> budget vote was delayed.
"We will publish the <img src=x onerror="document.title='PWNED'"> minutes on Friday," said Jane Porter, the council's finance director.
Residents who wrote </textarea><script>document.title='PWNED'</script> to the council will get a reply, Porter said. The vote is now expected in March, according to the published agenda.
"Nothing here is <b>final</b> yet," she added.
A leaked video of the closed session surfaced on Tuesday.
"""
"""Its last line is evidence (media presented as leaked), so the article is on the worklist and
the page renders it in full: every payload meets the escaping."""


def analysed_store(directory: Path) -> Path:
    """Analyse the seeds and the hostile article offline into a database under directory."""
    inputs = directory / "inputs"
    shutil.copytree(SEEDS, inputs)
    (inputs / "hostile.txt").write_text(HOSTILE_TEXT, encoding="utf-8")
    db = directory / "report.db"
    # The seeds are fabrications, which never register a death alone: the desk knows this one.
    with Store(db) as store:
        add_death(store, "Len Goodman", date="2023-04-22", source="https://www.bbc.co.uk/news/entertainment-arts-65357937")
    # The seeds are a feed of viral stories: about half of it invented, not the 5 % of a night.
    result = run([str(inputs)], load_settings({"engine": "offline", "db": db, "fabrication_prior": 0.5}))
    with Store(db) as store:
        update_batch_insight(store, result.run_id)
    return db


HOSTILE_TITLE = "<script>document.title='PWNED'</script>Council <b>vote</b> delayed"
TRIBUTES = Path(__file__).resolve().parents[1] / "fixtures" / "tributes.jsonl"


def desk_store(directory: Path) -> Path:
    """A night for the desk: the seeds (a template cluster), the hostile article under a hostile
    title (on the worklist) and nine tributes and news stories the ranker does not flag (the
    audit sample's population), analysed offline at the seeds' prior."""
    inputs = directory / "inputs"
    shutil.copytree(SEEDS, inputs)
    shutil.copy(TRIBUTES, inputs / "tributes.jsonl")
    record = {"id": "hostile", "title": HOSTILE_TITLE, "text": HOSTILE_TEXT}
    (inputs / "hostile.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    db = directory / "desk.db"
    run([str(inputs)], load_settings({"engine": "offline", "db": db, "fabrication_prior": 0.5, "min_file_age": 0}))
    return db


def copy_store(source: Path, target: Path) -> Path:
    """A copy of a database (through SQLite's backup: the WAL's pages too), for a test that writes."""
    with sqlite3.connect(source) as original, sqlite3.connect(target) as copy:
        original.backup(copy)
    return target
