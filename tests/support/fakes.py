"""Shared helpers for tests that talk to bench/fake_server.py in-process."""

from pathlib import Path

from fake_server import FakeServer, ServerConfig, chat_completion

from pipeline.settings import Engine, Settings

__all__ = ["FakeClock", "FakeServer", "ServerConfig", "chat_completion", "no_sleep", "write_articles", "server_settings"]


class FakeClock:
    """A monotonic clock whose ``sleep`` records the wait and moves time on at once."""

    def __init__(self):
        self.now = 100.0
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def no_sleep(_seconds: float) -> None:
    """Stands in for asyncio.sleep so retry waits cost no time."""


def write_articles(folder: Path, count: int, marker: str = "", start: int = 0) -> list[Path]:
    """``count`` distinct articles with one quote each; ``marker`` goes into every text."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for number in range(start, start + count):
        path = folder / f"article-{number:04d}.txt"
        path.write_text(
            f'Story {number}. The mayor said "we will rebuild bridge number {number} by spring" '
            f"at the council meeting on Tuesday. {marker}\n",
            encoding="utf-8",
        )
        paths.append(path)
    return paths


def server_settings(server: FakeServer, db: Path, **changes) -> Settings:
    values = dict(
        engine=Engine.llm,
        base_url=server.base_url,
        api_key="test-key",
        model="gpt-4o-mini",
        db=db,
        concurrency=4,
        timeout=5.0,
        max_retries=2,
        min_file_age=0,
    )
    values.update(changes)
    return Settings(**values).validated()
