"""The store's schema version: old databases open and upgrade in place, new steps apply once."""

import re
import shutil
import sqlite3
from pathlib import Path

import pytest

import pipeline
from pipeline.store import schema
from pipeline.engines import OfflineEngine
from pipeline.errors import StoreError
from pipeline.views.export import export_results
from pipeline.runs import run
from pipeline.settings import load_settings
from pipeline.store import Store

# Made by `pipeline run seeds/ --engine offline` on main at 13a67b0 (before schema versions),
# with the batch tables created as `pipeline batch status` did: user_version 0.
MAIN_13A67B0 = Path(__file__).parent / "fixtures" / "db" / "main-13a67b0.db"
SEEDS = Path(__file__).resolve().parent.parent / "seeds"


def _objects(db: Path) -> dict[str, str]:
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT name, type FROM sqlite_master WHERE name NOT LIKE 'sqlite_%'").fetchall()
    return dict(rows)


def _version(db: Path) -> int:
    with sqlite3.connect(db) as connection:
        return connection.execute("PRAGMA user_version").fetchone()[0]


@pytest.fixture
def old_db(tmp_path):
    db = tmp_path / "old.db"
    shutil.copy(MAIN_13A67B0, db)
    return db


def test_a_database_made_before_schema_versions_is_upgraded_in_place(old_db, tmp_path):
    assert _version(old_db) == 0
    with Store(old_db) as store:
        old_records = list(store.iter_results())
    assert _version(old_db) == schema.SCHEMA_VERSION
    assert len(old_records) == 3
    fresh = tmp_path / "fresh.db"
    Store(fresh).close()
    assert _objects(old_db) == _objects(fresh)


def test_an_upgraded_database_keeps_its_results_and_caches_them(old_db, tmp_path):
    inputs = tmp_path / "seeds"
    shutil.copytree(SEEDS, inputs)
    with Store(old_db) as store:
        stored_identity = next(store.iter_results()).identity
    # The offline engine of 13a67b0 (its rules and weights have changed since): same cache identity.
    engine = OfflineEngine()
    engine.identity = stored_identity
    result = run([str(inputs)], load_settings({"engine": "offline", "db": old_db}), engine=engine)
    assert result.counts["cached"] == 3 and result.counts["ok"] == 0
    with Store(old_db) as store:
        assert len(store.runs()) == 2
        assert export_results(store, "jsonl", open(tmp_path / "out.jsonl", "w")) == 3


def test_each_new_step_runs_once_and_in_order(tmp_path, monkeypatch):
    db = tmp_path / "pipeline.db"
    Store(db).close()
    steps = [*schema.MIGRATIONS, "ALTER TABLE run ADD COLUMN note TEXT", "UPDATE run SET note = 'second step'"]
    monkeypatch.setattr("pipeline.store.connection.MIGRATIONS", steps)
    monkeypatch.setattr("pipeline.store.connection.SCHEMA_VERSION", len(steps))
    for _ in range(2):
        Store(db).close()
    assert _version(db) == len(steps)
    with sqlite3.connect(db) as connection:
        assert "note" in [row[1] for row in connection.execute("PRAGMA table_info(run)")]


def test_a_failing_step_leaves_the_database_at_the_last_good_version(tmp_path, monkeypatch):
    db = tmp_path / "pipeline.db"
    Store(db).close()
    steps = [*schema.MIGRATIONS, "ALTER TABLE run ADD COLUMN note TEXT;\nALTER TABLE no_such_table ADD COLUMN x TEXT;"]
    monkeypatch.setattr("pipeline.store.connection.MIGRATIONS", steps)
    monkeypatch.setattr("pipeline.store.connection.SCHEMA_VERSION", len(steps))
    with pytest.raises(StoreError, match="cannot open"):
        Store(db)
    assert _version(db) == schema.SCHEMA_VERSION
    with sqlite3.connect(db) as connection:
        assert "note" not in [row[1] for row in connection.execute("PRAGMA table_info(run)")]


def test_a_database_from_a_newer_pipeline_is_refused_with_one_line(tmp_path):
    db = tmp_path / "pipeline.db"
    with sqlite3.connect(db) as connection:
        connection.execute(f"PRAGMA user_version = {schema.SCHEMA_VERSION + 1}")
    with pytest.raises(StoreError, match="newer than this pipeline"):
        Store(db)


def test_every_table_and_view_is_defined_in_the_schema_module():
    package = Path(pipeline.__file__).parent
    for module in package.rglob("*.py"):
        if module.name != "schema.py":
            assert "CREATE TABLE" not in module.read_text(encoding="utf-8"), module


# The modules that own tables, beside the store: each makes every query on its tables.
TABLE_OWNERS = {
    "desk/clusters.py": {"cluster_band", "cluster_pair", "template_cluster"},
    "desk/posthumous.py": {"death_evidence", "death_desk_entry", "posthumous_flag", "posthumous_applied"},
    "desk/factchecks.py": {"factcheck", "factcheck_fts", "factcheck_match"},
    "desk/reviews.py": {"review"},
    "desk/source_lists.py": {"source_list"},
    "desk/settled.py": {"verdicts"},
    "desk/learning.py": {"calibration_fits"},
    "desk/audits.py": {"audit_draws", "audit_verdicts"},
    "runs/batch_api.py": {"batch_job", "batch_item"},
    "runs/inputs.py": {"source_file"},
}
_TABLE_NAMED = re.compile(r"\b(?:FROM|JOIN|INTO|UPDATE)\s+(\w+)")


def _querying_modules() -> dict[str, str]:
    package = Path(pipeline.__file__).parent
    texts = {module.relative_to(package).as_posix(): module.read_text(encoding="utf-8") for module in package.rglob("*.py")}
    calls = (".db.execute", ".db.create_function", "self.db")
    return {path: text for path, text in texts.items() if any(call in text for call in calls)}


def test_every_query_lives_in_the_store_or_in_the_module_that_owns_its_tables():
    querying = _querying_modules()
    assert sorted(path for path in querying if not path.startswith("store/") and path not in TABLE_OWNERS) == []
    owner_of = {table: owner for owner, tables in TABLE_OWNERS.items() for table in tables}
    trespasses = sorted(
        (path, table)
        for path, text in querying.items()
        if path != "store/schema.py"
        for table in set(_TABLE_NAMED.findall(text))
        if owner_of.get(table, path) != path
    )
    assert trespasses == []
    assert set(owner_of) <= set(_objects_of_the_schema()), "every owned table is defined in store/schema.py"


def _objects_of_the_schema() -> dict[str, str]:
    with sqlite3.connect(":memory:") as connection:
        for step in schema.MIGRATIONS:
            connection.executescript(step)
        return dict(connection.execute("SELECT name, type FROM sqlite_master").fetchall())
