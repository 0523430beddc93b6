"""Properties (issue 6) of the quote verifier, the sources normaliser and cache keys."""

from __future__ import annotations

import tempfile
import unicodedata
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from pipeline.models import Article, QuoteDraft, SpeakerKind
from pipeline.inputs import article_id, iter_articles, normalise_text
from pipeline.store import CacheIdentity, cache_key
from pipeline.checks.quotes import locate_quote, verify_quotes

modest = settings(max_examples=60, deadline=None)

# No "Z": a quote holding one can only verify if the verifier invents text.
ARTICLE_ALPHABET = "abc de ‘’“”\"'—-….,\n"
article_text = st.text(alphabet=ARTICLE_ALPHABET, max_size=120).map(normalise_text)
STRAIGHT_TO_TYPOGRAPHIC = str.maketrans({"'": "’", '"': "“", "-": "—", " ": "\n"})


def _draft(text: str) -> QuoteDraft:
    return QuoteDraft(speaker="Someone", speaker_kind=SpeakerKind.named, text=text, cue=None, channel=None)


@st.composite
def article_and_quotes(draw: st.DrawFn) -> tuple[str, list[str]]:
    """An article and quotes cut from it, some joined across a gap as models join split quotes."""
    text = draw(article_text)
    quotes = []
    for _ in range(draw(st.integers(1, 4))):
        start = draw(st.integers(0, len(text)))
        end = draw(st.integers(start, len(text)))
        quote = text[start:end]
        if draw(st.booleans()):
            later = draw(st.integers(end, len(text)))
            quote += " " + text[later : draw(st.integers(later, len(text)))]
        quotes.append(quote)
    return text, quotes


@modest
@given(article_and_quotes())
def test_verified_offsets_index_exactly_the_stored_quote_text(case: tuple[str, list[str]]) -> None:
    text, quotes = case
    verified, missing = verify_quotes(text, [_draft(quote) for quote in quotes])
    assert len(verified) + len(missing) <= len(quotes)
    for quote in verified:
        bounds = [(span.start, span.end) for span in quote.spans]
        assert all(0 <= start < end <= len(text) for start, end in bounds)
        assert all(left_end <= right_start for (_, left_end), (right_start, _) in zip(bounds, bounds[1:], strict=False))
        assert (quote.start, quote.end) == (bounds[0][0], bounds[-1][1])
        assert quote.text == " ".join(text[start:end] for start, end in bounds)
        again, _ = verify_quotes(text, [quote])
        assert [span for verified_again in again for span in verified_again.spans] == quote.spans


@modest
@given(article_text, st.data())
def test_a_quote_holding_text_the_article_lacks_never_verifies(text: str, data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(text)))
    quote = text[start : data.draw(st.integers(start, len(text)))]
    cut = data.draw(st.integers(0, len(quote)))
    invented = quote[:cut] + data.draw(st.sampled_from(["Z", "Zed", " Zz ", "ZZ, "])) + quote[cut:]
    assert locate_quote(text, invented) is None


@modest
@given(article_and_quotes())
def test_typographic_variants_of_a_quote_verify_at_the_same_spans(case: tuple[str, list[str]]) -> None:
    text, quotes = case
    for quote in quotes:
        assert locate_quote(text, quote.translate(STRAIGHT_TO_TYPOGRAPHIC)) == locate_quote(text, quote)
        assert locate_quote(text, quote.replace("…", "...")) == locate_quote(text, quote)


# --- the sources normaliser ----------------------------------------------------------------

any_text = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=200)


@modest
@given(any_text)
def test_normalising_is_idempotent_and_ignores_layout_and_unicode_form(text: str) -> None:
    normal = normalise_text(text)
    assert normalise_text(normal) == normal
    laid_out = "\n\n\n" + "  \r\n".join(unicodedata.normalize("NFD", text).split("\n")) + " \t\r\n\r\n"
    assert article_id(normalise_text(laid_out)) == article_id(normal)


@modest
@given(any_text, st.sampled_from(["utf-8", "utf-8-sig", "utf-16"]), st.sampled_from(["\n", "\r\n"]))
def test_a_file_read_back_has_the_id_of_its_normalised_text(text: str, encoding: str, newline: str) -> None:
    # The prefix keeps a drawn text from starting like a PNG or PDF, which are refused as binary.
    text = "Story: " + text
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "story.txt"
        path.write_bytes(text.replace("\n", newline).encode(encoding))
        [article] = iter_articles([str(path)])
    assert isinstance(article, Article)
    assert article.text == normalise_text(text) and article.article_id == article_id(article.text)


# --- cache keys ----------------------------------------------------------------------------

# Parts never hold NUL, which joins them in the hashed string, nor lone surrogates (not UTF-8).
part = st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=12)
params = st.dictionaries(
    st.sampled_from(["temperature", "max_tokens", "top_p", "seed"]),
    st.integers(0, 5) | st.floats(0, 2, allow_nan=False),
    max_size=4,
)


def _identity(parts: list[str], generation: dict) -> CacheIdentity:
    return CacheIdentity(
        engine=parts[1],
        model=parts[2],
        mode=parts[3],
        prompt_version=parts[4],
        prompt_hash=parts[5],
        schema_hash=parts[6],
        params=generation,
    )


@modest
@given(st.lists(part, min_size=7, max_size=7), st.lists(part, min_size=7, max_size=7), params, params)
def test_cache_keys_differ_whenever_the_identities_differ(first: list[str], second: list[str], a: dict, b: dict) -> None:
    same = first == second and _identity(first, a).params_json() == _identity(second, b).params_json()
    assert (cache_key(first[0], _identity(first, a)) == cache_key(second[0], _identity(second, b))) == same


@modest
@given(st.lists(part, min_size=7, max_size=7), st.integers(0, 5), st.integers(1, 3), params)
def test_moving_text_between_neighbouring_parts_changes_the_key(
    parts: list[str], where: int, shift: int, generation: dict
) -> None:
    moved = list(parts)
    moved[where] += "x" * shift
    moved[where + 1] = "x" * shift + moved[where + 1]
    assert cache_key(parts[0], _identity(parts, generation)) != cache_key(moved[0], _identity(moved, generation))


@modest
@given(st.lists(part, min_size=7, max_size=7), params, st.randoms(use_true_random=False))
def test_cache_keys_ignore_the_order_of_generation_params(parts: list[str], generation: dict, rng) -> None:
    items = list(generation.items())
    rng.shuffle(items)
    assert cache_key(parts[0], _identity(parts, dict(items))) == cache_key(parts[0], _identity(parts, generation))
