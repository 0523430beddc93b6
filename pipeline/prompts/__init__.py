"""Versioned prompts: files in this package named ``VERSION.system.md``,
``VERSION.user.md`` and ``VERSION.reask.md``, hashed together. They ship in the
wheel and are read with ``importlib.resources``; ``PIPELINE_PROMPTS_DIR`` points
at another folder of them.

Prompts are rendered here with ``string.Template`` (never through instructor's
Jinja2 ``context=``), so article text that contains ``{{ }}`` or ``$`` stays
plain data. The system prompt carries no per-article data, so providers can
cache it. Changing behaviour means adding a new version, which changes the hash
and so misses the cache.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from string import Template

from ..errors import ConfigError
from ..models import Article, QuoteDraft

__all__ = ["PROMPTS_DIR", "Prompt", "load_prompt", "truncate_for_prompt"]

PROMPTS_DIR: Traversable = resources.files(__name__)
_PARTS = ("system", "user", "reask")


def truncate_for_prompt(text: str, max_chars: int) -> str:
    """The text sent to the model: whole when it fits, else cut at the last
    paragraph (or sentence) break before ``max_chars``. Verification always uses
    the whole article, so a cut never lets a quote verify that is not there."""
    if len(text) <= max_chars:
        return text
    head = text[:max_chars]
    for separator in ("\n\n", "\n", ". "):
        cut = head.rfind(separator)
        if cut > max_chars // 2:
            return head[: cut + len(separator)].rstrip()
    return head


@dataclass(frozen=True)
class Prompt:
    version: str
    system: str
    user: Template
    reask: Template
    hash: str

    def messages(self, article: Article, max_chars: int) -> list[dict[str, str]]:
        """System and user messages for one article, the article fenced as data."""
        sent = truncate_for_prompt(article.text, max_chars)
        fence = article.article_id[:16]
        note = (
            ""
            if sent == article.text
            else f"[The article was cut to its first {len(sent)} of {len(article.text)} characters.]"
        )
        user = self.user.substitute(
            begin_marker=f"<<<ARTICLE {fence}>>>",
            article=sent,
            end_marker=f"<<<END ARTICLE {fence}>>>",
            truncation_note=note,
        )
        return [{"role": "system", "content": self.system}, {"role": "user", "content": user}]

    def reask_message(self, missing: list[QuoteDraft]) -> dict[str, str]:
        """The follow-up that names the quotes the article does not contain."""
        listed = "\n".join(f"- {quote.speaker}: {quote.text}" for quote in missing)
        return {"role": "user", "content": self.reask.substitute(missing_quotes=listed)}


def load_prompt(version: str, prompts_dir: Path | None = None) -> Prompt:
    """Read and hash one prompt version (from the package, or ``prompts_dir``); ConfigError if any part is missing."""
    folder = PROMPTS_DIR if prompts_dir is None else prompts_dir
    texts = {}
    for part in _PARTS:
        path = folder / f"{version}.{part}.md"
        try:
            texts[part] = path.read_text(encoding="utf-8")
        except OSError:
            raise ConfigError(f"prompt version {version!r}: cannot read {path}") from None
    digest = hashlib.sha256()
    for part in _PARTS:
        digest.update(part.encode() + b"\0" + texts[part].encode() + b"\0")
    return Prompt(
        version=version,
        system=texts["system"].strip(),
        user=Template(texts["user"].strip()),
        reask=Template(texts["reask"].strip()),
        hash=digest.hexdigest()[:16],
    )
