"""The versioned prompt files (``VERSION.system.md``, ``VERSION.user.md``, ``VERSION.reask.md``).

This folder ships inside the wheel as the package ``pipeline.prompts`` (``pyproject.toml`` maps
it there); :mod:`pipeline.engines.prompts` reads and renders them.
"""
