"""Runs bespokelabs-curator over the benchmark's articles, for runner_bench.py's P1 comparison.

Run with the Python of the separate venv that holds curator (/work/.venvs/curator):
``python bench/curator_driver.py ARTICLES.jsonl BASE_URL RPM`` prints one JSON line:
``{"articles": N, "answered": M, "wall_s": ...}``. It sends the pipeline's own
prompt and ``ArticleVerdict`` schema (json_schema structured output, curator's
way), so the server does the same work for both; curator parses but does not
verify quotes or store results, which only flatters it.
"""

from __future__ import annotations

import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bespokelabs import curator  # noqa: E402

from pipeline.models import Article, ArticleVerdict  # noqa: E402
from pipeline.engines.prompts import load_prompt  # noqa: E402

__all__ = ["main"]

_PROMPT = load_prompt("analyse-v1")
_MAX_INPUT_CHARS = 60_000


class _Analyser(curator.LLM):
    response_format = ArticleVerdict

    def prompt(self, row: dict) -> list[dict[str, str]]:
        article = Article(
            article_id=row["article_id"],
            text=row["text"],
            title=None,
            url=None,
            published=None,
            source_path="bench",
            record_id=None,
        )
        return _PROMPT.messages(article, _MAX_INPUT_CHARS)

    def parse(self, row: dict, response: ArticleVerdict) -> dict:
        return {"article_id": row["article_id"], "label": response.label.value}


def main(argv: list[str]) -> None:
    articles_path, base_url, rpm = argv[0], argv[1], int(argv[2])
    rows = []
    with open(articles_path, encoding="utf-8") as lines:
        for line in lines:
            text = json.loads(line)["text"]
            rows.append({"article_id": hashlib.sha256(text.encode()).hexdigest(), "text": text})
    analyser = _Analyser(
        model_name="gpt-4o-mini",
        backend="openai",
        backend_params={
            "base_url": base_url,
            "api_key": "sk-bench",
            "max_requests_per_minute": rpm,
            "max_tokens_per_minute": 100_000_000,
            "max_retries": 5,
            "require_all_responses": False,
        },
    )
    started = time.perf_counter()
    answered = analyser(rows)
    wall = time.perf_counter() - started
    count = len(answered.dataset) if hasattr(answered, "dataset") else len(answered)
    print(json.dumps({"articles": len(rows), "answered": count, "wall_s": wall}))


if __name__ == "__main__":
    main(sys.argv[1:])
