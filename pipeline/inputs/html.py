"""HTML pages: trafilatura extracts the main text (scripts, styles, iframes, navigation and
comment sections dropped) and the title, URL and date the page declares; a page it finds
nothing in falls back to plain tag stripping without the hidden parts. trafilatura is
imported by the first page read, not at start-up."""

from __future__ import annotations

import re
from html.parser import HTMLParser


from pipeline.errors import InputError
from pipeline.models import Article, SkippedInput
from pipeline.inputs.formats import _article, _decode, normalise_text

_HTML_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.IGNORECASE)


def _decode_html(data: bytes, path: str) -> str:
    """Decode HTML, honouring a declared legacy charset when the bytes are not UTF-8."""
    try:
        return _decode(data, path)
    except InputError as error:
        declared = _HTML_CHARSET.search(data[:4096])
        if declared is None or not error.reason.startswith("not valid"):
            raise
        try:
            return data.decode(declared.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            raise error from None


def _article_from_html(html: str, source_path: str) -> Article | SkippedInput:
    title: str | None = None
    url: str | None = None
    published: str | None = None
    text = ""
    try:
        import trafilatura  # seconds of imports: only when a page is read

        document = trafilatura.bare_extraction(
            html,
            with_metadata=True,
            include_comments=False,
            prune_xpath=["//iframe", "//nav", "//noscript", "//template"],
            # Only dates the page declares: the extensive search guesses from any year in the text.
            date_extraction_params={"extensive_search": False},
        )
    except Exception:  # a parser crash on hostile HTML must cost one page, not the batch
        document = None
    if document is not None and not isinstance(document, dict):
        text = normalise_text(document.text or "")
        title, url, published = (_optional(value) for value in (document.title, document.url, document.date))
    if not text:
        text = normalise_text(_strip_tags(html))
    if not text:
        return SkippedInput(source_path=source_path, record_id=None, reason="no text found in HTML")
    return _article(text, source_path, title=title, url=url, published=published)


def _optional(value: str | None) -> str | None:
    return (value.strip() or None) if value else None


class _TagStripper(HTMLParser):
    """Last resort for pages trafilatura finds nothing in: visible text, one block a line."""

    _HIDDEN = frozenset({"script", "style", "iframe", "noscript", "template", "nav", "head", "svg", "object"})
    _BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "section", "article", "blockquote", "pre"}
    )

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._hidden_depth = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth += 1
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag: str) -> None:
        if tag in self._HIDDEN:
            self._hidden_depth = max(0, self._hidden_depth - 1)
        elif tag in self._BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data: str) -> None:
        if not self._hidden_depth:
            self.parts.append(data)


def _strip_tags(html: str) -> str:
    stripper = _TagStripper()
    stripper.feed(html)
    stripper.close()
    return "".join(stripper.parts)
