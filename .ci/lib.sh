# Sourced by .ci/run: output prefixes and timed legs.
#
# Several legs run at the same time, so every line a leg prints is led by its name in brackets
# ("[node22] ..."). `sed -u` passes the output on line by line, and a line is written in one
# write(2), so the lines of two legs interleave but are never cut into each other.

# Where each leg leaves its verdict ("passed 93 150": verdict, wall and CPU seconds).
CI_RESULTS=$(mktemp -d "${TMPDIR:-/tmp}/headroom-ci-results.XXXXXX")
CI_STARTED=$SECONDS
# Test files that failed once and passed alone (.ci/test-leg.sh adds a line per leg).
export CI_FLAKY="$CI_RESULTS.flaky"

# prefix NAME: copy standard input to standard output, each line led by "[NAME] ".
prefix() {
  sed -u "s/^/[$1] /"
}

# leg NAME COMMAND...: run COMMAND (a script: it keeps its own `set -e`) with standard output
# and error prefixed, then print and record its verdict, wall time and CPU time (user + system
# of all the processes it waited for). Returns COMMAND's status.
leg() {
  local name=$1
  shift
  local status=0 TIMEFORMAT='%R %U %S'
  echo "[$name] start: $*"
  { time LEG_NAME="$name" "$@" 2>&1 </dev/null | prefix "$name"; } 2>"$CI_RESULTS/$name.time" || status=$?
  local wall user sys
  read -r wall user sys <"$CI_RESULTS/$name.time"
  rm -f "$CI_RESULTS/$name.time"
  local verdict=passed
  [ "$status" -eq 0 ] || verdict="failed (exit $status)"
  local cpu
  cpu=$(awk -v u="$user" -v s="$sys" 'BEGIN { printf "%.0f", u + s }')
  wall=${wall%.*}
  echo "[$name] $verdict in $wall s wall, $cpu s CPU"
  echo "${verdict%% *} $wall $cpu" >"$CI_RESULTS/$name"
  return "$status"
}

# summary: one line per leg that ran, the total wall time, and a closing count; fails when a leg
# failed (or none ran).
summary() {
  local passed=0 failed=0 file verdict wall cpu
  echo "---- legs ----"
  printf '%-16s %-7s %8s %8s\n' leg verdict wall CPU
  for file in "$CI_RESULTS"/*; do
    [ -e "$file" ] || continue
    read -r verdict wall cpu <"$file"
    printf '%-16s %-7s %6s s %6s s\n' "$(basename "$file")" "$verdict" "$wall" "$cpu"
    if [ "$verdict" = passed ]; then passed=$((passed + 1)); else failed=$((failed + 1)); fi
  done
  if [ -s "$CI_FLAKY" ]; then
    echo "failed once under load, passed alone (make them robust):"
    sed 's/^/  /' "$CI_FLAKY"
  fi
  rm -f "$CI_FLAKY"
  echo "wall time of .ci/run: $((SECONDS - CI_STARTED)) s"
  echo "legs: $passed passed, $failed failed"
  rm -rf "$CI_RESULTS"
  [ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
}
