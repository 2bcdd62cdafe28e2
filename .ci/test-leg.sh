#!/usr/bin/env bash
# Usage: .ci/test-leg.sh node MAJOR [FILE...]  the whole suite (or FILEs) on Node.js MAJOR (.ci/node-versions.sh);
#                                         HEADROOM_TEST_IOREDIS=6 (and HEADROOM_TEST_RESP=2) choose the ioredis
#        .ci/test-leg.sh ioredis6 resp3   the test files that talk to Redis, on ioredis 6 (RESP3,
#                                         its default), and the typecheck against ioredis 6's types
#        .ci/test-leg.sh ioredis6 resp2   the same files on ioredis 6 with `protocol: 2`
#
# The main leg of .ci/run (`npm test`: typecheck and the whole suite on Node 20 and the
# lockfile's ioredis 5) runs first, with the machine to itself. These legs run after it, two at a
# time, so each gives vitest one worker (VITEST_WORKERS, default 1): two test files run at once,
# as in the main leg, and timing-sensitive tests see the load they were written for.
#
# What each leg covers, and why:
#   node MAJOR   every test file: a Node major can change anything (timers, streams, fetch,
#                AbortSignal, http), so the whole suite runs. No typecheck: tsc's verdict does
#                not depend on the Node version that runs it.
#   ioredis6     every test file whose imports reach an ioredis client (.ci/redis-test-files.mjs);
#                the others never load ioredis, so they would repeat the main leg to the byte.
set -euo pipefail
cd "$(dirname "$0")/.."

workers=${VITEST_WORKERS:-1}
report=$(mktemp "${TMPDIR:-/tmp}/headroom-leg.XXXXXX.json")
trap 'rm -f "$report"' EXIT

# run_suite NODE FILE...: vitest on NODE. A test file that fails is run once more, by itself:
# a Node or ioredis major that breaks something fails both times, while a timing-sensitive test
# that lost to the leg running beside it passes alone. Such a file is named in the log ("failed
# once, passed alone"), so that it gets made robust, and does not fail the leg; the main leg
# (`npm test`) has no second chance.
run_suite() {
  local node=$1
  shift
  local run=("$node" node_modules/vitest/vitest.mjs run --maxWorkers="$workers")
  if "${run[@]}" --reporter=default --reporter=json --outputFile.json="$report" "$@"; then return 0; fi
  local failed=()
  mapfile -t failed < <("$node" -e '
    const report = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
    for (const file of report.testResults) if (file.status !== "passed") console.log(require("node:path").relative(process.cwd(), file.name));
  ' "$report" 2>/dev/null || true)
  if [ "${#failed[@]}" -eq 0 ]; then
    echo "vitest failed before any test file did (no report): no second run"
    return 1
  fi
  echo "running the ${#failed[@]} failed test file(s) once more, by themselves: ${failed[*]}"
  "${run[@]}" "${failed[@]}" || return 1
  echo "failed once, passed alone (timing under load; make them robust): ${failed[*]}"
  if [ -n "${CI_FLAKY:-}" ]; then echo "${LEG_NAME:-test-leg}: ${failed[*]}" >>"$CI_FLAKY"; fi
}

case "${1:-}" in
  node)
    major=${2:?usage: test-leg.sh node MAJOR}
    bin=$(.ci/node-versions.sh "$major")
    # Test files start child processes with process.execPath; PATH makes a bare `node` or `npm`
    # run on this Node too.
    export PATH="$(dirname "$bin"):$PATH"
    echo "Node.js $("$bin" --version), ioredis ${HEADROOM_TEST_IOREDIS:-5}${HEADROOM_TEST_RESP:+ with protocol $HEADROOM_TEST_RESP}, vitest with $workers worker(s), every test file"
    shift 2
    run_suite "$bin" "$@" # extra arguments (test files) for a local run
    ;;
  ioredis6)
    protocol=${2:?usage: test-leg.sh ioredis6 resp3|resp2}
    export HEADROOM_TEST_IOREDIS=6
    case "$protocol" in
      resp3) unset HEADROOM_TEST_RESP ;;
      resp2) export HEADROOM_TEST_RESP=2 ;;
      *) echo "unknown protocol $protocol" >&2; exit 2 ;;
    esac
    mapfile -t files < <(node .ci/redis-test-files.mjs)
    echo "ioredis $(node -p 'require("ioredis6/package.json").version') ($protocol), Node.js $(node --version), vitest with $workers worker(s), ${#files[@]} test files that talk to Redis"
    if [ "$protocol" = resp3 ]; then npm run --silent typecheck:ioredis6; fi
    run_suite "$(command -v node)" "${files[@]}"
    ;;
  *)
    echo "usage: .ci/test-leg.sh node MAJOR | ioredis6 resp3|resp2" >&2
    exit 2
    ;;
esac
