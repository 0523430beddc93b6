#!/usr/bin/env bash
# The nightly job: analyse what arrived in the inbox, write the morning report, and move the
# files it read whole out of the inbox. Every line it logs starts with an ISO 8601 timestamp.
#
#   PIPELINE_INBOX      the folder articles arrive in (required)
#   PIPELINE_REPORTS    where reports go: one folder per date, report.html and summary.md
#                       (default: ./reports)
#   PIPELINE_PROCESSED  where analysed files are moved, one folder per date (default: unset,
#                       files stay in the inbox; unchanged files are not read again)
#   PIPELINE_BIN        the pipeline command (default: pipeline on PATH)
# and every setting pipeline reads (PIPELINE_DB, PIPELINE_TIMEZONE, OPENAI_API_KEY, ...).
#
# Exit status: pipeline run's (0 every article analysed or cached, 1 some failed, 2 usage or
# configuration); the report is written whenever the run recorded one.
set -uo pipefail

inbox=${PIPELINE_INBOX:?set PIPELINE_INBOX to the folder articles arrive in}
reports=${PIPELINE_REPORTS:-reports}
processed=${PIPELINE_PROCESSED:-}
pipeline=${PIPELINE_BIN:-pipeline}
today=$(date +%F)

# Stamp each line that has no stamp yet (pipeline's own log lines carry one).
stamped() {
    while IFS= read -r line; do
        if [[ $line =~ ^[0-9]{4}-[0-9]{2}-[0-9]{2}T ]]; then
            printf '%s\n' "$line"
        else
            printf '%s %s\n' "$(date -Iseconds)" "$line"
        fi
    done
}
log() { printf '%s\n' "$*" | stamped; }

started=$(mktemp)
trap 'rm -f "$started"' EXIT
log "nightly: analysing $inbox"
"$pipeline" run "$inbox" --allow-empty 2>&1 | stamped
status=${PIPESTATUS[0]}
log "nightly: pipeline run exited $status"

if [[ $status -le 1 ]]; then
    mkdir -p "$reports/$today"
    "$pipeline" report --html "$reports/$today/report.html" --md "$reports/$today/summary.md" 2>&1 | stamped
    log "nightly: report in $reports/$today/report.html"
fi

# Only after a clean run: a failed article is retried by the next run, from the inbox. Files
# modified since the run started (still arriving) stay for the next run too.
if [[ $status -eq 0 && -n $processed ]]; then
    while IFS= read -r -d '' file; do
        target="$processed/$today/${file#"$inbox"/}"
        mkdir -p "$(dirname "$target")"
        mv -n "$file" "$target" && log "nightly: moved $file to $target"
    done < <(find "$inbox" -type f ! -name '.*' ! -newer "$started" -print0)
fi
exit "$status"
