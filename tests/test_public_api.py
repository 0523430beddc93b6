"""The public API is what pipeline/__init__.py documents, no more and no less."""

import re

import pipeline


def documented_names() -> list[str]:
    listing = pipeline.__doc__.split("Public names, by stage")[1]
    return re.findall(r"``(\w+)``", listing.split("\n", 1)[1])


def test_all_is_exactly_the_documented_public_names():
    documented = documented_names()
    assert len(documented) == len(set(documented)), "a name is documented twice"
    assert sorted(pipeline.__all__) == sorted(documented)


def test_every_public_name_is_importable_from_the_package():
    for name in pipeline.__all__:
        assert getattr(pipeline, name) is not None, name
