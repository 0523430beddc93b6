"""The wheel's package list (pyproject.toml) names every package folder, so no stage is left out."""

import tomllib
from pathlib import Path

import pipeline

ROOT = Path(__file__).resolve().parent.parent


def test_every_package_folder_ships_in_the_wheel():
    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    package = Path(pipeline.__file__).parent
    folders = {".".join(("pipeline", *init.parent.relative_to(package).parts)) for init in package.rglob("__init__.py")}
    assert folders | {"pipeline.prompts"} == listed


def test_the_prompts_ship_from_the_top_level_folder():
    from pipeline.engines.prompts import PROMPTS_DIR

    names = {entry.name for entry in PROMPTS_DIR.iterdir()}
    assert {"analyse-v2.system.md", "analyse-v2.user.md", "analyse-v2.reask.md"} <= names
    assert (ROOT / "prompts" / "analyse-v2.system.md").is_file()
