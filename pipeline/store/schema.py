"""Every table and view of the store, and the ordered steps that build them.

``MIGRATIONS[n]`` takes a database from schema version ``n`` to ``n + 1`` (the
version lives in ``PRAGMA user_version``). ``Store`` runs the missing steps when
it opens a database, each in its own transaction, so a database made by any
earlier release is upgraded in place. To change the schema, append one step; never
edit a step that has shipped. Step 1 is written with ``IF NOT EXISTS`` because
databases made before versioning (version 0) already hold some of its tables.
"""

from __future__ import annotations

__all__ = ["MIGRATIONS", "SCHEMA_VERSION"]

_ARTICLES_RESULTS_RUNS = """
CREATE TABLE IF NOT EXISTS article (
    article_id TEXT PRIMARY KEY,
    title TEXT,
    url TEXT,
    published TEXT,
    text TEXT NOT NULL,
    first_seen TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS article_source (
    article_id TEXT NOT NULL REFERENCES article(article_id),
    source_path TEXT NOT NULL,
    record_id TEXT NOT NULL DEFAULT '',
    last_seen TEXT NOT NULL,
    PRIMARY KEY (article_id, source_path, record_id)
);
CREATE TABLE IF NOT EXISTS result (
    cache_key TEXT PRIMARY KEY,
    article_id TEXT NOT NULL REFERENCES article(article_id),
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    mode TEXT NOT NULL,
    prompt_version TEXT NOT NULL,
    prompt_hash TEXT NOT NULL,
    schema_hash TEXT NOT NULL,
    params TEXT NOT NULL,
    label TEXT NOT NULL,
    confidence REAL NOT NULL,
    analysis TEXT NOT NULL,
    raw_responses TEXT NOT NULL,
    requests INTEGER NOT NULL,
    input_tokens INTEGER NOT NULL,
    output_tokens INTEGER NOT NULL,
    latency_ms INTEGER NOT NULL,
    run_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS result_article ON result(article_id, created_at);
CREATE TABLE IF NOT EXISTS run (
    run_id INTEGER PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT,
    status TEXT NOT NULL,
    engine TEXT NOT NULL,
    model TEXT NOT NULL,
    pid INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS outcome (
    run_id INTEGER NOT NULL REFERENCES run(run_id),
    source_path TEXT NOT NULL,
    record_id TEXT,
    article_id TEXT,
    status TEXT NOT NULL CHECK (status IN ('ok', 'cached', 'failed', 'skipped')),
    reason TEXT,
    cache_key TEXT,
    requests INTEGER NOT NULL DEFAULT 0,
    input_tokens INTEGER NOT NULL DEFAULT 0,
    output_tokens INTEGER NOT NULL DEFAULT 0,
    at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS outcome_run ON outcome(run_id, status);
CREATE TABLE IF NOT EXISTS lock (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    run_id INTEGER,
    acquired_at TEXT NOT NULL
);
CREATE VIEW IF NOT EXISTS latest_result AS
    SELECT * FROM result AS r
    WHERE r.created_at = (SELECT MAX(created_at) FROM result WHERE article_id = r.article_id);
CREATE VIEW IF NOT EXISTS articles AS
    SELECT a.article_id, a.title, a.url, a.published, a.first_seen,
           (SELECT source_path FROM article_source s WHERE s.article_id = a.article_id
            ORDER BY last_seen DESC LIMIT 1) AS source_path,
           l.label, l.confidence, l.engine, l.model, l.prompt_version, l.created_at AS analysed_at,
           json_array_length(l.analysis, '$.quotes') AS quotes,
           json_array_length(l.analysis, '$.rejected_quotes') AS rejected_quotes,
           json_array_length(l.analysis, '$.claims') AS claims
    FROM article a LEFT JOIN latest_result l ON l.article_id = a.article_id;
CREATE VIEW IF NOT EXISTS quotes AS
    SELECT l.article_id, l.cache_key,
           json_extract(q.value, '$.speaker') AS speaker,
           json_extract(q.value, '$.speaker_kind') AS speaker_kind,
           json_extract(q.value, '$.text') AS text,
           json_extract(q.value, '$.cue') AS cue,
           json_extract(q.value, '$.channel') AS channel,
           json_extract(q.value, '$.start') AS start,
           json_extract(q.value, '$.end') AS "end"
    FROM latest_result l, json_each(l.analysis, '$.quotes') q;
CREATE VIEW IF NOT EXISTS claims AS
    SELECT l.article_id, l.cache_key,
           json_extract(c.value, '$.event') AS event,
           json_extract(c.value, '$.who') AS who,
           json_extract(c.value, '$.when') AS "when",
           json_extract(c.value, '$.where') AS "where",
           json_extract(c.value, '$.attributed_to') AS attributed_to,
           json_extract(c.value, '$.why') AS why,
           json_extract(c.value, '$.check_with') AS check_with,
           json_extract(c.value, '$.priority') AS priority
    FROM latest_result l, json_each(l.analysis, '$.claims') c;
CREATE VIEW IF NOT EXISTS runs AS
    SELECT r.run_id, r.started_at, r.ended_at, r.status, r.engine, r.model,
           SUM(o.status = 'ok') AS ok, SUM(o.status = 'failed') AS failed,
           SUM(o.status = 'cached') AS cached, SUM(o.status = 'skipped') AS skipped,
           COALESCE(SUM(o.requests), 0) AS requests,
           COALESCE(SUM(o.input_tokens), 0) AS input_tokens,
           COALESCE(SUM(o.output_tokens), 0) AS output_tokens
    FROM run r LEFT JOIN outcome o ON o.run_id = r.run_id
    GROUP BY r.run_id;
"""

_BATCH_API = """
CREATE TABLE IF NOT EXISTS batch_job (
    batch_id TEXT PRIMARY KEY,
    input_file_id TEXT NOT NULL,
    status TEXT NOT NULL,
    identity TEXT NOT NULL,
    requests INTEGER NOT NULL,
    submitted_at TEXT NOT NULL,
    output_file_id TEXT,
    error_file_id TEXT,
    checked_at TEXT,
    collected_at TEXT
);
CREATE TABLE IF NOT EXISTS batch_item (
    batch_id TEXT NOT NULL REFERENCES batch_job(batch_id),
    custom_id TEXT NOT NULL,
    article_id TEXT NOT NULL,
    source_path TEXT NOT NULL,
    record_id TEXT,
    PRIMARY KEY (batch_id, custom_id)
);
CREATE INDEX IF NOT EXISTS batch_item_key ON batch_item(custom_id);
"""

_TEMPLATE_CLUSTERS = """
CREATE TABLE IF NOT EXISTS cluster_band (
    article_id TEXT NOT NULL REFERENCES article(article_id),
    band INTEGER NOT NULL,
    bucket INTEGER NOT NULL,
    PRIMARY KEY (article_id, band)
);
CREATE INDEX IF NOT EXISTS cluster_band_bucket ON cluster_band(band, bucket);
CREATE TABLE IF NOT EXISTS cluster_pair (
    article_a TEXT NOT NULL REFERENCES article(article_id),
    article_b TEXT NOT NULL REFERENCES article(article_id),
    jaccard REAL NOT NULL,
    PRIMARY KEY (article_a, article_b),
    CHECK (article_a < article_b)
);
CREATE TABLE IF NOT EXISTS template_cluster (
    article_id TEXT PRIMARY KEY REFERENCES article(article_id),
    cluster_id TEXT NOT NULL,
    size INTEGER NOT NULL,
    best_jaccard REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS template_cluster_id ON template_cluster(cluster_id);
CREATE VIEW IF NOT EXISTS clusters AS
    SELECT c.cluster_id, c.size, c.article_id, c.best_jaccard, a.title, a.source_path, a.label, a.first_seen
    FROM template_cluster c JOIN articles a ON a.article_id = c.article_id
    ORDER BY c.size DESC, c.cluster_id, a.first_seen;
"""

_POSTHUMOUS = """
CREATE TABLE IF NOT EXISTS deceased_person (
    name TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES article(article_id),
    PRIMARY KEY (name, article_id)
);
CREATE TABLE IF NOT EXISTS posthumous_flag (
    article_id TEXT NOT NULL REFERENCES article(article_id),
    person TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'act')),
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    evidence_article_id TEXT NOT NULL REFERENCES article(article_id),
    PRIMARY KEY (article_id, kind, start)
);
CREATE VIEW IF NOT EXISTS posthumous AS
    SELECT f.article_id, f.person, f.kind, f.start, f."end", substr(a.text, f.start + 1, f."end" - f.start) AS text,
           f.evidence_article_id
    FROM posthumous_flag f JOIN article a ON a.article_id = f.article_id;
"""

# The desk's memory. The old register named whoever stood near a death word (living people,
# a label, "the White House"): it and the flags resting on it are dropped, not carried over;
# the desk restores known deaths with `pipeline deaths add`, new articles add evidence.
_DESK_MEMORY = """
DROP VIEW IF EXISTS posthumous;
DROP TABLE IF EXISTS posthumous_flag;
DROP TABLE IF EXISTS deceased_person;
CREATE TABLE posthumous_flag (
    article_id TEXT NOT NULL REFERENCES article(article_id),
    person TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('quote', 'act')),
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    evidence_article_id TEXT,
    PRIMARY KEY (article_id, kind, start)
);
CREATE VIEW posthumous AS
    SELECT f.article_id, f.person, f.kind, f.start, f."end", substr(a.text, f.start + 1, f."end" - f.start) AS text,
           f.evidence_article_id
    FROM posthumous_flag f JOIN article a ON a.article_id = f.article_id;
CREATE TABLE death_evidence (
    name_key TEXT NOT NULL,
    name TEXT NOT NULL,
    article_id TEXT NOT NULL REFERENCES article(article_id),
    kind TEXT NOT NULL CHECK (kind IN ('subject', 'death_of', 'late', 'obituary')),
    start INTEGER NOT NULL,
    "end" INTEGER NOT NULL,
    sentence_start INTEGER NOT NULL,
    sentence_end INTEGER NOT NULL,
    suppressed_at TEXT,
    found_at TEXT NOT NULL,
    PRIMARY KEY (name_key, article_id, start)
);
CREATE TABLE death_desk_entry (
    name_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    date TEXT,
    source TEXT,
    added_at TEXT NOT NULL
);
CREATE TABLE factcheck (
    factcheck_id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    publisher TEXT,
    claim_reviewed TEXT NOT NULL,
    rating TEXT,
    claimant TEXT,
    date_published TEXT,
    appearances TEXT NOT NULL DEFAULT '[]',
    source_file TEXT,
    imported_at TEXT NOT NULL
);
CREATE VIRTUAL TABLE factcheck_fts USING fts5(claim_reviewed, tokenize = 'porter unicode61 remove_diacritics 2');
CREATE TABLE factcheck_match (
    article_id TEXT NOT NULL REFERENCES article(article_id),
    target TEXT NOT NULL,
    factcheck_id INTEGER NOT NULL REFERENCES factcheck(factcheck_id),
    score REAL NOT NULL,
    matched_at TEXT NOT NULL,
    PRIMARY KEY (article_id, target, factcheck_id)
);
CREATE TABLE review (
    review_id INTEGER PRIMARY KEY,
    target TEXT NOT NULL,
    story_id TEXT,
    article_ids TEXT NOT NULL,
    verdict TEXT NOT NULL CHECK (verdict IN ('confirmed_fabrication', 'false_positive', 'accurate', 'needs_work')),
    note TEXT,
    reviewed_by TEXT,
    reviewed_at TEXT NOT NULL
);
CREATE TABLE source_list (
    domain TEXT PRIMARY KEY,
    standing TEXT NOT NULL CHECK (standing IN ('trusted', 'unreliable')),
    added_at TEXT NOT NULL
);
"""

_SOURCE_VERSIONS = """
ALTER TABLE article_source ADD COLUMN superseded_at TEXT;
CREATE INDEX IF NOT EXISTS article_source_path ON article_source(source_path, record_id);
DROP TABLE IF EXISTS lock;
"""

# The register the stored posthumous flags were computed from: a run re-flags the stored
# articles that mention a name whose entry changed since (a desk addition, new evidence).
_POSTHUMOUS_APPLIED = """
CREATE TABLE posthumous_applied (
    name_key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    evidence_article_id TEXT
);
"""

# Cached input tokens and the estimated cost of every outcome, priced when it was paid
# (cached tokens at the cached price; a batch's re-asks at the live price). Outcomes from
# before this step have no cost: ``pricing.run_cost`` estimates theirs from their tokens.
# ``failure`` remembers articles that failed for a deterministic reason, so a later run
# retries each only a few times (settings.failed_retries) instead of paying every night.
_COST_AND_FAILURE_MEMORY = """
ALTER TABLE outcome ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
ALTER TABLE outcome ADD COLUMN cost REAL;
ALTER TABLE result ADD COLUMN cached_input_tokens INTEGER NOT NULL DEFAULT 0;
CREATE TABLE failure (
    cache_key TEXT PRIMARY KEY,
    article_id TEXT NOT NULL,
    kind TEXT NOT NULL,
    reason TEXT NOT NULL,
    runs INTEGER NOT NULL,
    first_run_id INTEGER,
    last_run_id INTEGER,
    last_failed TEXT NOT NULL
);
DROP VIEW IF EXISTS runs;
CREATE VIEW runs AS
    SELECT r.run_id, r.started_at, r.ended_at, r.status, r.engine, r.model,
           SUM(o.status = 'ok') AS ok, SUM(o.status = 'failed') AS failed,
           SUM(o.status = 'cached') AS cached, SUM(o.status = 'skipped') AS skipped,
           COALESCE(SUM(o.requests), 0) AS requests,
           COALESCE(SUM(o.input_tokens), 0) AS input_tokens,
           COALESCE(SUM(o.cached_input_tokens), 0) AS cached_input_tokens,
           COALESCE(SUM(o.output_tokens), 0) AS output_tokens,
           SUM(o.cost) AS priced_cost,
           COALESCE(SUM(CASE WHEN o.cost IS NULL THEN o.input_tokens END), 0) AS unpriced_input_tokens,
           COALESCE(SUM(CASE WHEN o.cost IS NULL THEN o.output_tokens END), 0) AS unpriced_output_tokens
    FROM run r LEFT JOIN outcome o ON o.run_id = r.run_id
    GROUP BY r.run_id;
"""

# An article's result is the one its latest run used (its last ok or cached outcome, in the
# order outcomes were written), not the newest by the clock: a night on another engine, or a
# clock stepped back, must not decide what the desk sees. A run's wall time is measured on a
# monotonic clock.
_RUN_ORDER = """
ALTER TABLE run ADD COLUMN wall_seconds REAL;
CREATE INDEX IF NOT EXISTS outcome_article ON outcome(article_id, status);
DROP VIEW IF EXISTS latest_result;
CREATE VIEW latest_result AS
    SELECT r.* FROM result AS r
    WHERE r.rowid = COALESCE(
        (SELECT used.rowid FROM outcome AS o JOIN result AS used ON used.cache_key = o.cache_key
         WHERE o.article_id = r.article_id AND o.status IN ('ok', 'cached')
         ORDER BY o.rowid DESC LIMIT 1),
        (SELECT MAX(rowid) FROM result WHERE article_id = r.article_id));
"""


_INBOX_INDEX = """
CREATE TABLE source_file (
    source_path TEXT PRIMARY KEY,
    size INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode INTEGER NOT NULL,
    articles TEXT NOT NULL,
    indexed_at TEXT NOT NULL
);
"""

# The settled verdict of every article (its engine's answer with the batch's and the desk's
# evidence), one row per article, so SQL tools show what the report shows. Written by
# ``pipeline.desk.settled.refresh_verdicts``: the policy needs Python (log-odds, clusters).
_VERDICTS = """
CREATE TABLE verdicts (
    article_id TEXT PRIMARY KEY REFERENCES article(article_id),
    label TEXT NOT NULL,
    confidence REAL NOT NULL,
    p_news REAL NOT NULL,
    p_tribute REAL NOT NULL,
    p_fabrication REAL NOT NULL,
    reasons TEXT NOT NULL,
    review_status TEXT NOT NULL,
    night TEXT NOT NULL,
    run_id INTEGER,
    settled_at TEXT NOT NULL
);
CREATE INDEX verdicts_night ON verdicts(night);
"""

# The view a Datasette user opens first says what every other door says: the settled label
# (from ``verdicts``), with the engine's own label beside it as ``engine_label``.
_SETTLED_ARTICLES_VIEW = """
DROP VIEW IF EXISTS clusters;
DROP VIEW IF EXISTS articles;
CREATE VIEW articles AS
    SELECT a.article_id, a.title, a.url, a.published, a.first_seen,
           (SELECT source_path FROM article_source s WHERE s.article_id = a.article_id
            ORDER BY last_seen DESC LIMIT 1) AS source_path,
           COALESCE(v.label, l.label) AS label, COALESCE(v.confidence, l.confidence) AS confidence,
           v.p_fabrication, v.review_status, v.night,
           l.label AS engine_label, l.engine, l.model, l.prompt_version, l.created_at AS analysed_at,
           json_array_length(l.analysis, '$.quotes') AS quotes,
           json_array_length(l.analysis, '$.rejected_quotes') AS rejected_quotes,
           json_array_length(l.analysis, '$.claims') AS claims
    FROM article a LEFT JOIN latest_result l ON l.article_id = a.article_id
    LEFT JOIN verdicts v ON v.article_id = a.article_id;
CREATE VIEW clusters AS
    SELECT c.cluster_id, c.size, c.article_id, c.best_jaccard, a.title, a.source_path, a.label, a.first_seen
    FROM template_cluster c JOIN articles a ON a.article_id = c.article_id
    ORDER BY c.size DESC, c.cluster_id, a.first_seen;
"""

# Issue 23, inputs: the inbox index's stamp gains the inode change time, which no user tool
# can restore (files indexed before have none, 0, so each is read once more); a posthumous flag
# and the register it was computed from say whether the death was confirmed (the desk's word
# or two independent sources: earlier flags were); a run's batch insight is pending until it
# completes, so articles a failed or interrupted insight pass missed are taken up by the next
# run (runs before this step count as done). The ``posthumous`` view shows ``confirmed``.
_INBOX_CTIME_CONFIRMED_DEATHS_PENDING_INSIGHT = """
ALTER TABLE source_file ADD COLUMN ctime_ns INTEGER NOT NULL DEFAULT 0;
ALTER TABLE posthumous_flag ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE posthumous_applied ADD COLUMN confirmed INTEGER NOT NULL DEFAULT 1;
ALTER TABLE run ADD COLUMN insight_pending INTEGER NOT NULL DEFAULT 0;
DROP VIEW IF EXISTS posthumous;
CREATE VIEW posthumous AS
    SELECT f.article_id, f.person, f.kind, f.start, f."end", substr(a.text, f.start + 1, f."end" - f.start) AS text,
           f.evidence_article_id, f.confirmed
    FROM posthumous_flag f JOIN article a ON a.article_id = f.article_id;
"""

# The audit sample (``pipeline.desk.audits``): each run's worklist carries articles drawn at
# random from those the ranker did not flag, drawn once and kept so every door shows the same.
# ``population`` is how many unflagged articles the draw was made from and ``propensity`` each
# one's inclusion probability (drawn / population), which a learner weights an audit verdict by.
# ``audit_verdicts`` is every review covering an article drawn before the review was made, one
# row per review and article, with the latest such draw.
_AUDIT_DRAWS = """
CREATE TABLE audit_draws (
    run_id INTEGER NOT NULL REFERENCES run(run_id),
    article_id TEXT NOT NULL REFERENCES article(article_id),
    night TEXT NOT NULL,
    drawn_at TEXT NOT NULL,
    population INTEGER NOT NULL,
    propensity REAL NOT NULL,
    PRIMARY KEY (run_id, article_id)
);
CREATE INDEX audit_draws_article ON audit_draws(article_id);
CREATE VIEW audit_verdicts AS
    SELECT review.review_id, covered.value AS article_id, review.verdict, review.note, review.reviewed_by,
           review.reviewed_at, audit_draws.run_id, audit_draws.night, audit_draws.population, audit_draws.propensity
    FROM review, json_each(review.article_ids) AS covered
    JOIN audit_draws ON audit_draws.rowid = (
        SELECT MAX(latest.rowid) FROM audit_draws AS latest
        WHERE latest.article_id = covered.value AND latest.drawn_at <= review.reviewed_at);
"""

# Answers whose usage was missing or no honest count are priced at their request's estimate;
# the outcome and the result say how many of their requests were counted so.
_ESTIMATED_USAGE = """
ALTER TABLE outcome ADD COLUMN estimated_requests INTEGER NOT NULL DEFAULT 0;
ALTER TABLE result ADD COLUMN estimated_requests INTEGER NOT NULL DEFAULT 0;
"""

# The desk's calibration fits (``pipeline.desk.learning``): each fit's coefficients, the
# verdicts it used and its scores on held-back verdicts beside the fit in force before it; one
# fit at most is ``in_force`` (none: the shipped calibration).
_CALIBRATION_FITS = """
CREATE TABLE calibration_fits (
    fit_id INTEGER PRIMARY KEY,
    created_at TEXT NOT NULL,
    coefficients TEXT NOT NULL,
    review_ids TEXT NOT NULL,
    held_back_ids TEXT NOT NULL,
    scores_before TEXT NOT NULL,
    scores_after TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('in_force', 'refused', 'rolled_back', 'replaced')),
    reason TEXT NOT NULL,
    replaced_fit_id INTEGER
);
"""


MIGRATIONS: list[str] = [
    # 1: the schema as it stood before versioning.
    _ARTICLES_RESULTS_RUNS + _BATCH_API + _TEMPLATE_CLUSTERS + _POSTHUMOUS,
    # 2: the desk's memory: death register with evidence, fact-checks, reviews, source lists.
    _DESK_MEMORY,
    # 3: a source whose content changed points to its new article; the run lock is a file lock now.
    _SOURCE_VERSIONS,
    # 4: the register the posthumous flags rest on, so a change to it re-flags stored articles.
    _POSTHUMOUS_APPLIED,
    # 5: cached tokens and cost per outcome; failure memory.
    _COST_AND_FAILURE_MEMORY,
    # 6: the result an article shows is the one its latest run used; run wall time is monotonic.
    _RUN_ORDER,
    # 7: the inbox index: a file's stat when last read whole, and its articles ([[article_id, record_id], ...]).
    _INBOX_INDEX,
    # 8: the settled verdict per article (``verdicts``), for SQL tools.
    _VERDICTS,
    # 9: the ``articles`` view shows the settled label (``engine_label``: the engine's own).
    _SETTLED_ARTICLES_VIEW,
    # 10 (issue 23, inputs): the inbox stamp's ctime; confirmed deaths; pending batch insight.
    _INBOX_CTIME_CONFIRMED_DEATHS_PENDING_INSIGHT,
    # 11: the audit sample of each run's worklist, and the reviews of audited articles.
    _AUDIT_DRAWS,
    # 12 (issue 23, answers, cause 5): requests counted at the estimate because their answer's usage was not honest.
    _ESTIMATED_USAGE,
    # 13: the desk's calibration fits (``pipeline learn``).
    _CALIBRATION_FITS,
]
SCHEMA_VERSION = len(MIGRATIONS)
