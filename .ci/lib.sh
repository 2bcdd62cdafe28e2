# Sourced by .ci/run: output prefixes and timed legs.
#
# Several legs run at the same time, so every line a leg prints is led by its name in brackets
# ("[node22] ..."). `sed -u` passes the output on line by line, and a line is written in one
# write(2), so the lines of two legs interleave but are never cut into each other.

# Where each leg leaves its verdict ("passed 93" or "failed 120": status and seconds).
CI_RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/headroom-ci-results.XXXXXX")
CI_STARTED=$SECONDS

# prefix NAME: copy standard input to standard output, each line led by "[NAME] ".
prefix() {
  sed -u "s/^/[$1] /"
}

# leg NAME COMMAND...: run COMMAND (a script: it keeps its own `set -e`) with standard output
# and error prefixed, then print and record its verdict and wall time. Returns COMMAND's status.
leg() {
  local name=$1
  shift
  local start=$SECONDS status=0
  echo "[$name] start: $*"
  "$@" 2>&1 </dev/null | prefix "$name" || status=$?
  local took=$((SECONDS - start))
  if [ "$status" -eq 0 ]; then
    echo "[$name] passed in ${took} s"
    echo "passed $took" >"$CI_RESULTS/$name"
  else
    echo "[$name] FAILED (exit $status) in ${took} s"
    echo "failed $took" >"$CI_RESULTS/$name"
  fi
  return "$status"
}

# summary: one line per leg that ran, the total wall time, and a closing count; fails when a leg
# failed (or none ran).
summary() {
  local passed=0 failed=0 file verdict took
  echo "---- legs ----"
  for file in "$CI_RESULTS"/*; do
    [ -e "$file" ] || continue
    read -r verdict took <"$file"
    printf '%-16s %-7s %5s s\n' "$(basename "$file")" "$verdict" "$took"
    if [ "$verdict" = passed ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  echo "wall time of .ci/run: $((SECONDS - CI_STARTED)) s"
  echo "legs: $passed passed, $failed failed"
  rm -rf "$CI_RESULTS"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
