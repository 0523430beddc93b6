"""Nightly-scale benchmark of the runner against the fake OpenAI server (issue 4's P1–P4 and faults).

``.venv/bin/python bench/runner_bench.py`` prints, in one run on the same synthetic
articles (generated under a temporary folder, never committed), each figure as a
ratio measured in this run and whether it meets its target:

- P1: wall time at 200 ms latency and 3,000 RPM vs the limit max(N/RPM, N·latency/concurrency),
  vs a naive sequential instructor loop (100 articles, scaled to N), and vs
  bespokelabs-curator on the same server (driven from the Python of its own venv, given by
  ``--curator-python`` or ``PIPELINE_CURATOR_PYTHON``; without one the output says it was skipped).
- P1-high: 5,000 articles at 30,000 RPM and 200 ms, ``--concurrency 256``, vs the same limit (target ≤ 1.3×).
- P2: a re-run over the cached articles vs reading and hashing the same JSONL (target ≤ 3×), and a
  re-run over the same articles as unchanged files vs listing and stat'ing them (target ≤ 2×).
- P3: client CPU per article at zero latency. P4: peak RSS at the large size vs the small one.
- Offline: client CPU per 1,000-word article of an offline run, its batch insight included (target ≤ 3 ms).

Every figure line ends with the machine's load average (1, 5, 15 minutes) as it was printed:
the machine may be shared, and a loaded one runs every figure slower.
- Faults: at a 10% fault rate every article ends ``ok`` or ``failed`` with a reason and a
  re-run heals; runs killed with SIGKILL at random moments then resumed pay no article twice
  (counted at the server).

- Ray: the P3 articles (1,000 by default) through ``--executor ray`` on a local Ray vs the
  single-process runner, wall time and the driver's CPU per article (skipped without ray).

Every measured run is a separate process, so its CPU time and peak RSS are its own.
Sizes are flags; the defaults are the issue's.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import resource
import signal
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from typing import Any

__all__ = ["write_articles", "BenchServer", "measure", "main"]

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
PIPELINE_CLI = str(Path(PYTHON).parent / "pipeline")
MODEL = "gpt-4o-mini"
_NAIVE_ARTICLES = 100
_WORDS = (
    "council",
    "harbour",
    "budget",
    "school",
    "river",
    "festival",
    "bridge",
    "library",
    "station",
    "market",
    "hospital",
    "museum",
    "stadium",
    "airport",
    "tunnel",
    "park",
)


def write_articles(path: Path, count: int, seed: int = 0) -> Path:
    """``count`` distinct synthetic news articles (about 1 KB, two quotes each) as JSONL."""
    rng = random.Random(seed)
    with path.open("w", encoding="utf-8") as out:
        for number in range(count):
            place, topic = rng.choice(_WORDS).title(), rng.choice(_WORDS)
            filler = " ".join(rng.choice(_WORDS) for _ in range(90))
            text = (
                f"{place} (Bench) — Article {number} of the nightly run. The {topic} committee met on Tuesday. "
                f'"We expect the {topic} works to finish before the {rng.randint(1, 99)}th week," said '
                f'the chair. {filler}. A resident added: "Nobody told us about item {number} until now." '
                f"The next meeting is on day {rng.randint(1, 28)}."
            )
            out.write(json.dumps({"id": str(number), "text": text}) + "\n")
    return path


class BenchServer:
    """bench/fake_server.py in its own process, reconfigured between phases."""

    def __init__(self) -> None:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.process = subprocess.Popen(
            [PYTHON, str(ROOT / "bench" / "fake_server.py"), "--port", str(self.port)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(100):
            try:
                self.stats()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError("the fake server did not start")

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _call(self, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(
            f"http://127.0.0.1:{self.port}{path}", data=data, headers={"Content-Type": "application/json"}
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.loads(response.read())

    def configure(self, **config: Any) -> None:
        """Set the server's config for the next phase (unnamed fields back to defaults); counters reset."""
        defaults = dict(
            latency=0.0, jitter=0.0, rpm=None, tpm=None, send_retry_after=True, fault_rate=0.0, hang_seconds=600.0, seed=0
        )
        self._call("/_config", {**defaults, **config})

    def stats(self) -> dict[str, Any]:
        return self._call("/_stats")

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(10)


# Child processes: each measured run in its own interpreter.


def _settings(params: dict[str, Any]):
    from pipeline.settings import Engine, Settings

    return Settings(
        engine=Engine.llm,
        base_url=params["base_url"],
        api_key="sk-bench",
        model=MODEL,
        db=Path(params["db"]),
        concurrency=params["concurrency"],
        timeout=params.get("timeout", 30.0),
        max_retries=params.get("max_retries", 4),
        min_file_age=0,
    ).validated()


def _child_pipeline(params: dict[str, Any]) -> dict[str, Any]:
    from pipeline.runs import Executor, run

    settings = _settings(params)
    executor = Executor(params.get("executor", "local"))
    figures: dict[str, Any] = {}
    if executor is Executor.ray:
        import ray

        started = time.perf_counter()
        ray.init(num_cpus=os.cpu_count(), include_dashboard=False, log_to_driver=False, logging_level="ERROR")
        figures["ray_init_s"] = time.perf_counter() - started
    cpu, wall = time.process_time(), time.perf_counter()
    result = run([params["articles"]], settings, executor=executor)
    return {**figures, "wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "counts": result.counts}


def _child_naive(params: dict[str, Any]) -> dict[str, Any]:
    """The loop a user writes first: one instructor call after another, nothing else."""
    import instructor
    import openai

    from pipeline.models import Article, ArticleVerdict
    from pipeline.engines.prompts import load_prompt

    prompt = load_prompt("analyse-v1")
    client = instructor.from_openai(openai.OpenAI(base_url=params["base_url"], api_key="sk-bench"))
    with open(params["articles"], encoding="utf-8") as lines:
        texts = [json.loads(line)["text"] for _number, line in zip(range(params["count"]), lines, strict=False)]
    wall = time.perf_counter()
    for text in texts:
        article = Article(
            article_id=hashlib.sha256(text.encode()).hexdigest(),
            text=text,
            title=None,
            url=None,
            published=None,
            source_path="bench",
            record_id=None,
        )
        client.chat.completions.create(model=MODEL, messages=prompt.messages(article, 60_000), response_model=ArticleVerdict)
    return {"wall_s": time.perf_counter() - wall}


def _child_rehash(params: dict[str, Any]) -> dict[str, Any]:
    """Reading and hashing the input, the floor a cached re-run is compared with."""
    wall = time.perf_counter()
    with open(params["articles"], "rb") as lines:
        digests = [hashlib.sha256(json.loads(line)["text"].encode()).digest() for line in lines]
    return {"wall_s": time.perf_counter() - wall, "articles": len(digests)}


def _child_list_stat(params: dict[str, Any]) -> dict[str, Any]:
    """Listing a folder and stat'ing each file, the floor a re-run over unchanged files is compared with."""
    wall = time.perf_counter()
    stats = [os.stat(os.path.join(root, name)) for root, _folders, names in os.walk(params["articles"]) for name in names]
    return {"wall_s": time.perf_counter() - wall, "files": len(stats)}


def _child_offline(params: dict[str, Any]) -> dict[str, Any]:
    """An offline run (engine, verification, signals, the store) with its batch insight."""
    from pipeline.runs import run
    from pipeline.settings import Engine, Settings

    settings = Settings(engine=Engine.offline, db=Path(params["db"]), min_file_age=0, workers=params["workers"]).validated()
    cpu, wall = time.process_time(), time.perf_counter()
    result = run([params["articles"]], settings)
    return {"wall_s": time.perf_counter() - wall, "cpu_s": time.process_time() - cpu, "counts": result.counts}


_CHILDREN = {
    "pipeline": _child_pipeline,
    "offline": _child_offline,
    "naive": _child_naive,
    "rehash": _child_rehash,
    "list_stat": _child_list_stat,
}


def measure(phase: str, **params: Any) -> dict[str, Any]:
    """Run one phase in a fresh interpreter; its figures plus its peak RSS in MB."""
    completed = subprocess.run([PYTHON, __file__, "--child", phase, json.dumps(params)], capture_output=True, text=True, cwd=ROOT)
    if completed.returncode != 0:
        raise RuntimeError(f"{phase} failed:\n{completed.stderr[-3000:]}")
    return json.loads(completed.stdout.strip().splitlines()[-1])


def _child_main(phase: str, params_json: str) -> None:
    figures = _CHILDREN[phase](json.loads(params_json))
    figures["rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(json.dumps(figures))


# Phases


def _figure(line: str) -> None:
    """Print one figure line with the machine's load beside it."""
    one, five, fifteen = os.getloadavg()
    print(f"{line}  [load {one:.1f} {five:.1f} {fifteen:.1f} on {os.cpu_count()} CPUs]")


def _verdict(value: float, target: float, higher_is_better: bool = False) -> str:
    met = value >= target if higher_is_better else value <= target
    return "MET" if met else "MISSED"


def _stored(db: Path) -> dict[str, int]:
    """Articles with a result, and the last run's outcomes by status."""
    try:
        with sqlite3.connect(db) as connection:
            results = connection.execute("SELECT COUNT(DISTINCT article_id) FROM result").fetchone()[0]
            last_run = connection.execute("SELECT MAX(run_id) FROM run").fetchone()[0]
            statuses = dict(
                connection.execute(
                    "SELECT status, COUNT(*) FROM outcome WHERE run_id = ? GROUP BY status", (last_run,)
                ).fetchall()
            )
            unexplained = connection.execute(
                "SELECT COUNT(*) FROM outcome WHERE run_id = ? AND status = 'failed' AND COALESCE(reason, '') = ''", (last_run,)
            ).fetchone()[0]
    except sqlite3.OperationalError:  # killed before the pipeline created its tables
        return {"results": 0, "unexplained_failures": 0}
    return {"results": results, "unexplained_failures": unexplained, **statuses}


def _at_a_rate(
    server: BenchServer, work: Path, name: str, articles: int, seed: int, latency: float, rpm: int, concurrency: int
) -> tuple[Path, dict[str, Any], dict[str, Any], float]:
    """One run against a server with ``latency`` and an ``rpm`` cap: its input, figures, the
    server's counters, and the limit max(N/RPM, N·latency/concurrency)."""
    path = write_articles(work / f"{name}.jsonl", articles, seed=seed)
    server.configure(latency=latency, rpm=rpm)
    ours = measure("pipeline", base_url=server.base_url, db=str(work / f"{name}.db"), articles=str(path), concurrency=concurrency)
    return path, ours, server.stats(), max(articles / (rpm / 60), articles * latency / concurrency)


def p1(server: BenchServer, work: Path, articles: int, concurrency: int, curator_python: Path | None) -> None:
    latency, rpm = 0.2, 3000
    path, ours, stats, limit = _at_a_rate(server, work, "p1", articles, 1, latency, rpm, concurrency)
    print(f"P1  {articles} articles, {latency * 1000:.0f} ms latency, {rpm} RPM, --concurrency {concurrency}")
    print(
        f"    ours: {ours['wall_s']:.1f} s ({ours['counts']['ok']} ok, {ours['counts']['failed']} failed; "
        f"server answered {stats['requests'].get('429', 0)} × 429, {len(stats['duplicates'])} articles paid twice; "
        f"client CPU {ours['cpu_s']:.1f} s)"
    )
    ratio = ours["wall_s"] / limit
    _figure(
        f"    vs limit max(N/RPM, N·latency/concurrency) = {limit:.1f} s: {ratio:.3f}× (target ≤ 1.10×) {_verdict(ratio, 1.10)}"
    )
    server.configure(latency=latency, rpm=rpm)
    naive = measure("naive", base_url=server.base_url, articles=str(path), count=_NAIVE_ARTICLES)
    scaled = naive["wall_s"] * articles / _NAIVE_ARTICLES
    speedup = scaled / ours["wall_s"]
    _figure(
        f"    naive sequential instructor loop: {naive['wall_s']:.1f} s for {_NAIVE_ARTICLES}, scaled {scaled:.0f} s: "
        f"ours is {speedup:.1f}× faster (target ≥ 20×) {_verdict(speedup, 20, True)}"
    )
    print(
        f"      (at {rpm} RPM no client can beat N/RPM = {articles / (rpm / 60):.0f} s, so the most any "
        f"runner can show here is {scaled / (articles / (rpm / 60)):.1f}×)"
    )
    _p1_curator(server, path, ours["wall_s"], latency, rpm, curator_python)


def p1_high(server: BenchServer, work: Path, articles: int, concurrency: int) -> None:
    latency, rpm = 0.2, 30_000
    _path, ours, stats, limit = _at_a_rate(server, work, "p1-high", articles, 6, latency, rpm, concurrency)
    ratio = ours["wall_s"] / limit
    print(
        f"P1-high  {articles} articles, {latency * 1000:.0f} ms latency, {rpm} RPM, --concurrency {concurrency}: "
        f"{ours['wall_s']:.1f} s ({ours['counts']['ok']} ok, {ours['counts']['failed']} failed; "
        f"{stats['requests'].get('429', 0)} × 429; client CPU {ours['cpu_s']:.1f} s, "
        f"{ours['cpu_s'] / articles * 1000:.2f} ms per article)"
    )
    _figure(f"    vs limit {limit:.1f} s: {ratio:.2f}× (target ≤ 1.30×) {_verdict(ratio, 1.3)}")


def _p1_curator(server: BenchServer, path: Path, ours_wall: float, latency: float, rpm: int, curator_python: Path | None) -> None:
    if curator_python is None or not curator_python.exists():
        why = "no Curator venv given" if curator_python is None else f"{curator_python} missing"
        print(
            f"    curator: SKIPPED ({why}: make one with `python -m venv VENV && VENV/bin/pip install "
            f"bespokelabs-curator`, then pass --curator-python VENV/bin/python or set PIPELINE_CURATOR_PYTHON)"
        )
        return
    server.configure(latency=latency, rpm=rpm)
    tokenizers = next(curator_python.parent.parent.glob("lib/python*/site-packages/litellm/litellm_core_utils/tokenizers"), None)
    env = {
        **os.environ,
        "CURATOR_DISABLE_CACHE": "1",
        "TELEMETRY_ENABLED": "false",
        "OPENAI_API_KEY": "sk-bench",
        "CURATOR_CACHE_DIR": tempfile.mkdtemp(prefix="curator-cache-"),
        "HF_DATASETS_OFFLINE": "1",
    }
    if tokenizers:
        # tiktoken downloads its encodings at first use; litellm ships them, so point tiktoken there (offline).
        env["TIKTOKEN_CACHE_DIR"] = str(tokenizers)
    completed = subprocess.run(
        [str(curator_python), str(ROOT / "bench" / "curator_driver.py"), str(path), server.base_url, str(rpm)],
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
    )
    if completed.returncode != 0:
        print(f"    curator: FAILED to run ({completed.stderr.strip().splitlines()[-1][:300]})")
        return
    curator = json.loads(completed.stdout.strip().splitlines()[-1])
    stats = server.stats()
    ratio = curator["wall_s"] / ours_wall
    _figure(
        f"    bespokelabs-curator (max_requests_per_minute={rpm}): {curator['wall_s']:.1f} s, "
        f"{curator['answered']}/{curator['articles']} answered, server answered {stats['requests'].get('429', 0)} × 429: "
        f"our throughput is {ratio:.2f}× curator's (target ≥ 1.00×) {_verdict(ratio, 1.0, True)}"
    )


def p2_p3_p4(server: BenchServer, work: Path, small: int, large: int, concurrency: int) -> None:
    server.configure()
    small_path = write_articles(work / "small.jsonl", small, seed=2)
    large_path = write_articles(work / "large.jsonl", large, seed=3)
    at_small = measure(
        "pipeline", base_url=server.base_url, db=str(work / "small.db"), articles=str(small_path), concurrency=concurrency
    )
    at_large = measure(
        "pipeline", base_url=server.base_url, db=str(work / "large.db"), articles=str(large_path), concurrency=concurrency
    )
    rerun = measure(
        "pipeline", base_url=server.base_url, db=str(work / "large.db"), articles=str(large_path), concurrency=concurrency
    )
    _print_rerun(
        f"P2  re-run over a {large}-line JSONL, all cached",
        rerun,
        "read+hash of the same file",
        measure("rehash", articles=str(large_path)),
        3,
    )
    folder = _as_files(large_path, work / "inbox")
    measure(
        "pipeline", base_url=server.base_url, db=str(work / "large.db"), articles=str(folder), concurrency=concurrency
    )  # reads every file once (all cached) and indexes them
    files_rerun = measure(
        "pipeline", base_url=server.base_url, db=str(work / "large.db"), articles=str(folder), concurrency=concurrency
    )
    _print_rerun(
        f"    re-run over {large} unchanged files",
        files_rerun,
        "list+stat of the folder",
        measure("list_stat", articles=str(folder)),
        2,
    )
    per_article_ms = at_large["cpu_s"] / large * 1000
    _figure(
        f"P3  client CPU per article at zero latency: {per_article_ms:.2f} ms "
        f"({at_large['cpu_s']:.1f} s CPU for {large}, wall {at_large['wall_s']:.1f} s; target ≤ 2 ms) "
        f"{_verdict(per_article_ms, 2)}"
    )
    growth = at_large["rss_mb"] / at_small["rss_mb"]
    _figure(
        f"P4  peak RSS: {at_large['rss_mb']:.0f} MB at {large} articles (target ≤ 200 MB) "
        f"{_verdict(at_large['rss_mb'], 200)}; {at_small['rss_mb']:.0f} MB at {small}: {growth:.2f}× "
        f"(target ≤ 1.2×) {_verdict(growth, 1.2)}"
    )


def _print_rerun(what: str, rerun: dict[str, Any], floor_name: str, floor: dict[str, Any], target: float) -> None:
    ratio = rerun["wall_s"] / floor["wall_s"]
    _figure(
        f"{what}: {rerun['wall_s']:.2f} s (target ≤ 1 s) {_verdict(rerun['wall_s'], 1)} ({rerun['counts']['cached']} cached) "
        f"vs {floor_name} {floor['wall_s']:.2f} s: {ratio:.1f}× (target ≤ {target:g}×) {_verdict(ratio, target)}"
    )


def _as_files(jsonl: Path, folder: Path) -> Path:
    """One .txt file per JSONL line (the same articles), dated an hour back like a night-old inbox."""
    folder.mkdir()
    an_hour_ago = time.time_ns() - 3600 * 10**9
    with jsonl.open(encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            path = folder / f"{number:06d}.txt"
            path.write_text(json.loads(line)["text"], encoding="utf-8")
            os.utime(path, ns=(an_hour_ago, an_hour_ago))
    return folder


def offline(work: Path, articles: int) -> None:
    """The offline path's client CPU per 1,000-word article, the run's batch insight included."""
    from article_cpu import distinct_texts

    path = work / "offline.jsonl"
    with path.open("w", encoding="utf-8") as out:
        for text in distinct_texts(articles, 1000):
            out.write(json.dumps({"text": text}) + "\n")
    ours = measure("offline", db=str(work / "offline.db"), articles=str(path), workers=1)
    per_article_ms = ours["cpu_s"] / articles * 1000
    _figure(
        f"Offline  {articles} distinct 1,000-word articles, batch insight included: {per_article_ms:.2f} ms CPU per article "
        f"({ours['counts']['ok']} ok; wall {ours['wall_s']:.1f} s; target ≤ 3 ms) {_verdict(per_article_ms, 3)}"
    )
    workers = os.cpu_count() or 1
    pooled = measure("offline", db=str(work / "offline-workers.db"), articles=str(path), workers=workers)
    _figure(
        f"    --workers {workers}: wall {pooled['wall_s']:.1f} s, {ours['wall_s'] / pooled['wall_s']:.2f}× the one-process "
        f"run's speed ({pooled['counts']['ok']} ok)"
    )


def on_ray(server: BenchServer, work: Path, articles: int, concurrency: int) -> None:
    try:
        import ray  # noqa: F401
    except ImportError:
        print("Ray NOT RUN (pip install -e '.[ray]')")
        return
    path = write_articles(work / "ray.jsonl", articles, seed=7)
    server.configure()
    single = measure(
        "pipeline", base_url=server.base_url, db=str(work / "single.db"), articles=str(path), concurrency=concurrency
    )
    server.configure()
    ours = measure(
        "pipeline", base_url=server.base_url, db=str(work / "ray.db"), articles=str(path), concurrency=concurrency, executor="ray"
    )
    paid = server.stats()["paid_total"]
    print(
        f"Ray {articles} articles at zero latency on a local Ray ({os.cpu_count()} CPUs): "
        f"{ours['wall_s']:.1f} s ({ours['counts']['ok']} ok; {paid} paid requests) after "
        f"{ours['ray_init_s']:.1f} s to start Ray, vs {single['wall_s']:.1f} s in one process: "
        f"{ours['wall_s'] / single['wall_s']:.2f}× the wall time "
        f"({(ours['wall_s'] + ours['ray_init_s']) / single['wall_s']:.2f}× with start-up); driver CPU "
        f"{ours['cpu_s'] / articles * 1000:.2f} ms per article vs {single['cpu_s'] / articles * 1000:.2f} ms"
    )


def faults(server: BenchServer, work: Path, articles: int, concurrency: int) -> None:
    path = write_articles(work / "faults.jsonl", articles, seed=4)
    db = work / "faults.db"
    server.configure(latency=0.02, jitter=0.01, fault_rate=0.1, hang_seconds=600.0, seed=4)
    measure("pipeline", base_url=server.base_url, db=str(db), articles=str(path), concurrency=concurrency, timeout=2.0)
    first = _stored(db)
    injected = {name: count for name, count in server.stats()["requests"].items() if name != "chat"}
    accounted = first.get("ok", 0) + first.get("failed", 0)
    server.configure(latency=0.02)
    measure("pipeline", base_url=server.base_url, db=str(db), articles=str(path), concurrency=concurrency)
    healed = _stored(db)
    verdict = (
        "MET" if (accounted == articles and first["unexplained_failures"] == 0 and healed["results"] == articles) else "MISSED"
    )
    print(
        f"F1  {articles} articles at a 10% fault rate (injected, besides answer faults: {injected}): "
        f"{first.get('ok', 0)} ok + {first.get('failed', 0)} failed with a reason = {accounted} "
        f"(none lost: {accounted == articles}); re-run without faults: {healed.get('ok', 0)} healed, "
        f"{healed['results']}/{articles} stored {verdict}"
    )


def _stored_fences(db: Path) -> set[str]:
    """The prompt fences (article id prefixes) of every article with a committed result."""
    try:
        with sqlite3.connect(db) as connection:
            return {row[0][:16] for row in connection.execute("SELECT article_id FROM result")}
    except sqlite3.OperationalError:  # killed before the pipeline created its tables
        return set()


def _runs_started(db: Path) -> int:
    try:
        with sqlite3.connect(db) as connection:
            return connection.execute("SELECT COUNT(*) FROM run").fetchone()[0]
    except sqlite3.OperationalError:  # no tables yet
        return 0


def kills(server: BenchServer, work: Path, articles: int, count: int, concurrency: int, seed: int) -> None:
    """SIGKILL the command at random moments, resume, and count at the server what was paid twice.

    After each kill the paid count of every article already committed is noted; any
    request for it after that is paying twice for a finished article, the one thing
    that must never happen. Answers the server delivered but the killed client never
    committed are paid again by the next run; those are counted apart.
    """
    path = write_articles(work / "kills.jsonl", articles, seed=5)
    db = work / "kills.db"
    server.configure(latency=0.1, jitter=0.05)
    rng = random.Random(seed)
    command = [
        PIPELINE_CLI,
        "run",
        str(path),
        "--base-url",
        server.base_url,
        "--model",
        MODEL,
        "--db",
        str(db),
        "--concurrency",
        str(concurrency),
    ]
    env = {**os.environ, "OPENAI_API_KEY": "sk-bench", "PIPELINE_MIN_FILE_AGE": "0"}
    paid_when_finished: dict[str, int] = {}
    stored_after_kills = []
    for _ in range(count):
        runs_before = _runs_started(db)
        process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=work)
        # Importing takes seconds on a loaded machine: kill anywhere from start-up to several seconds
        # after the run has started, so the kills land mid-run however long start-up takes.
        deadline = time.monotonic() + 60
        while _runs_started(db) == runs_before and process.poll() is None and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 6.0))
        process.send_signal(signal.SIGKILL)
        process.wait()
        paid = server.stats()["paid"]
        finished = _stored_fences(db)
        for fence in finished - paid_when_finished.keys():
            paid_when_finished[fence] = paid.get(fence, 0)
        stored_after_kills.append(len(finished))
    final = subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env, cwd=work)
    stats = server.stats()
    repaid_finished = sum(stats["paid"].get(fence, 0) - count for fence, count in paid_when_finished.items())
    duplicates = sum(stats["duplicates"].values())
    stored = len(_stored_fences(db))
    verdict = "MET" if repaid_finished == 0 and stored == articles and final.returncode == 0 else "MISSED"
    print(
        f"F2  {count} SIGKILLs at random moments over {articles} articles, --concurrency {concurrency} "
        f"(articles stored after each kill: {stored_after_kills}), then a final run (exit {final.returncode}): "
        f"{stored}/{articles} stored, {stats['paid_total']} paid requests; finished articles paid again: "
        f"{repaid_finished} {verdict}"
    )
    print(
        f"    ({duplicates} requests paid twice in all: answers delivered to a client killed before it committed "
        f"them, at most --concurrency per kill; {stats['abandoned']} more were cut off before the answer and not paid)"
    )


_PHASES = ("p1", "p1-high", "p234", "offline", "faults", "kills", "ray")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--p1-articles", type=int, default=2000)
    parser.add_argument("--p1-high-articles", type=int, default=5000)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--high-concurrency", type=int, default=256)
    parser.add_argument("--small", type=int, default=1000)
    parser.add_argument("--large", type=int, default=10_000)
    parser.add_argument("--fault-articles", type=int, default=500)
    parser.add_argument("--kill-articles", type=int, default=3000)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ray-articles", type=int, default=1000)
    parser.add_argument("--offline-articles", type=int, default=1000)
    parser.add_argument(
        "--curator-python",
        type=Path,
        default=os.environ.get("PIPELINE_CURATOR_PYTHON") or None,
        help="the Python of a venv with bespokelabs-curator (default: $PIPELINE_CURATOR_PYTHON; none: skipped)",
    )
    parser.add_argument("--only", choices=_PHASES, action="append")
    args = parser.parse_args(argv)
    phases = set(args.only or _PHASES)
    server = BenchServer()
    try:
        with tempfile.TemporaryDirectory(prefix="runner-bench-") as folder:
            work = Path(folder)
            started = time.perf_counter()
            print(
                f"(load average before the run {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs; client and server share them)"
            )
            if "p1" in phases:
                p1(server, work, args.p1_articles, args.concurrency, args.curator_python)
            if "p1-high" in phases:
                p1_high(server, work, args.p1_high_articles, args.high_concurrency)
            if "p234" in phases:
                p2_p3_p4(server, work, args.small, args.large, 16)
            if "faults" in phases:
                faults(server, work, args.fault_articles, 16)
            if "kills" in phases:
                kills(server, work, args.kill_articles, args.kills, 8, args.seed)
            if "ray" in phases:
                on_ray(server, work, args.ray_articles, 16)
            if "offline" in phases:
                offline(work, args.offline_articles)
            print(
                f"(benchmark wall time {time.perf_counter() - started:.0f} s, {os.cpu_count()} CPUs; load average "
                f"after the run {os.getloadavg()[0]:.1f})"
            )
    finally:
        server.stop()


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        _child_main(sys.argv[2], sys.argv[3])
    else:
        main()
