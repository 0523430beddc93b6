"""Each engine makes its own re-asks: the verdict-first engine re-asks once for quotes the
article lacks, and a failed re-ask leaves the first answer standing, paid for."""

import asyncio

from pipeline.engines import CannedEngine, make_engine
from pipeline.engines.verdict_first import VerdictFirstEngine
from pipeline.errors import AnswerError
from pipeline.inputs import article_id
from pipeline.models import Article, ArticleVerdict, EngineAnswer, QuoteDraft, Usage
from pipeline.runs import analyse_article
from pipeline.settings import Engine, Settings

TEXT = 'The mayor spoke on Monday. "We will open the bridge in May," said Mayor Ann Lee.'
ARTICLE = Article(article_id=article_id(TEXT), text=TEXT, title=None, url=None, published=None, source_path="t", record_id=None)
REAL = QuoteDraft(speaker="Ann Lee", speaker_kind="named", text="We will open the bridge in May,", cue="said", channel=None)
MADE_UP = QuoteDraft(speaker="Ann Lee", speaker_kind="named", text="The bridge is a triumph", cue="said", channel=None)
FIRST = EngineAnswer(
    verdict=ArticleVerdict(label="news", confidence=0.8, reasons=[], rationale="r", quotes=[REAL, MADE_UP], claims=[]),
    raw_responses=["first"],
    usage=Usage(requests=1, input_tokens=100, output_tokens=10),
)


class _FailingReask(VerdictFirstEngine):
    async def _reask_quotes(self, article, previous, missing):
        self.missing = missing
        error = AnswerError("answer does not fit the schema")
        error.usage = Usage(requests=1, input_tokens=120, output_tokens=5)
        error.raw_responses = ("reask",)
        raise error


def _verdict_first() -> _FailingReask:
    settings = Settings(engine=Engine.llm, base_url="http://127.0.0.1:9", model="m", prompt_version="analyse-v1").validated()
    engine = make_engine(settings)
    assert isinstance(engine, VerdictFirstEngine)
    return _FailingReask(engine.settings, engine.prompt)


def test_a_failed_quote_reask_leaves_the_first_answer_standing_and_paid_for():
    live = _verdict_first()
    canned = CannedEngine("llm", live.identity, {ARTICLE.article_id: FIRST}, live=live)
    analysis, answers = asyncio.run(analyse_article(ARTICLE, canned))
    assert [quote.text for quote in live.missing] == [MADE_UP.text], "the re-ask names only the quote the text lacks"
    assert [answer.raw_responses for answer in answers] == [["first"], ["reask"]]
    assert answers[1].usage.input_tokens == 120, "the failed re-ask's tokens reach the ledger"
    assert [quote.text for quote in analysis.quotes] == [REAL.text]
    assert [quote.text for quote in analysis.rejected_quotes] == [MADE_UP.text], "rejected once, not once per attempt"
    assert analysis.rationale == "r"


def test_an_answer_whose_quotes_all_verify_is_not_reasked():
    live = _verdict_first()
    clean = FIRST.model_copy(update={"verdict": FIRST.verdict.model_copy(update={"quotes": [REAL]})})
    canned = CannedEngine("llm", live.identity, {ARTICLE.article_id: clean}, live=live)
    _analysis, answers = asyncio.run(analyse_article(ARTICLE, canned))
    assert answers == [clean] and not hasattr(live, "missing")
