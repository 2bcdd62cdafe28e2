#!/usr/bin/env bash
# Usage: .ci/consumers.sh   (after `npm run build`)
#
# Checks the package as a user receives it: `npm pack`s the tarball and installs it into scratch
# projects in a temporary folder, as a service would, with the registry's own packages:
#
#   ioredis6-first  has ioredis 6 before it adds headroom: the install must not fail with
#                   ERESOLVE, and `npm ls` must be clean with exactly one ioredis in the tree
#   headroom-first  adds ioredis 6 after headroom: same checks (no second, hidden ioredis)
#   ioredis5        the other supported major
#
# In ioredis6-first and ioredis5 it type-checks consumer/service.ts, which imports a real name
# from every subpath export and hands ioredis `Redis` and `Cluster` clients to every Redis-backed
# part, with TypeScript 5.9 and 7, under `module: nodenext` (as service.mts and service.cts: the
# import and the require types) and `moduleResolution: bundler`; and it loads every subpath with
# require() and with import() on every Node.js major CI tests (.ci/node-versions.sh), checking
# that both give the same names.
#
# npm's peer-dependency settings are fixed here, so that an .npmrc cannot hide an ERESOLVE.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export npm_config_legacy_peer_deps=false npm_config_strict_peer_deps=false npm_config_force=false
export npm_config_audit=false npm_config_fund=false npm_config_update_notifier=false

: "${CONSUMER_NODE_MAJORS:=22 24}"
: "${TYPESCRIPT_VERSIONS:=5.9 7}"

work=$(mktemp -d "${TMPDIR:-/tmp}/headroom-consumers.XXXXXX")
trap 'rm -rf "$work"' EXIT

[ -f dist/index.js ] || { echo "dist/ is missing: run npm run build first" >&2; exit 1; }
tarball=$work/$(npm pack --ignore-scripts --pack-destination "$work" --json | node -e \
  'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s)[0].filename))')
echo "packed $(basename "$tarball") ($(du -k "$tarball" | cut -f1) kB)"

# The compilers, once for every project: `tsc` of each version, run with the project's tsconfig.
# TypeScript 7 is the native compiler: its `typescript` package ships bin/tsc, which runs the
# binary of the platform's optional dependency (@typescript/typescript-linux-x64).
mkdir -p "$work/tools"
compilers=()
for v in $TYPESCRIPT_VERSIONS; do compilers+=("ts$v@npm:typescript@$v"); done
(cd "$work/tools" && npm init -y >/dev/null && npm install --loglevel=error "${compilers[@]}" >/dev/null)
declare -A tsc
for v in $TYPESCRIPT_VERSIONS; do
  tsc[$v]=$work/tools/node_modules/ts$v/bin/tsc
  echo "TypeScript $v: $(node "${tsc[$v]}" --version)"
done

# new_project NAME: an empty ESM project, with the node types a TypeScript service has.
new_project() {
  mkdir -p "$work/$1"
  (cd "$work/$1" && npm init -y >/dev/null && npm pkg set type=module && npm pkg set private=true --json)
}

# install NAME PACKAGE...: `npm install` in project NAME; its output is shown when it fails.
install() {
  local name=$1
  shift
  echo "$name: npm install $*"
  if ! (cd "$work/$name" && npm install --loglevel=warn "$@" >"$work/$name.log" 2>&1); then
    cat "$work/$name.log"
    echo "$name: npm install $* failed" >&2
    return 1
  fi
}

# check_tree NAME MAJOR: `npm ls` clean, exactly one ioredis, of MAJOR.
check_tree() {
  local name=$1 major=$2
  (cd "$work/$name" && npm ls --all >/dev/null) || {
    (cd "$work/$name" && npm ls --all) || true
    echo "$name: npm ls reports problems" >&2
    return 1
  }
  local versions
  versions=$(cd "$work/$name" && npm query '#ioredis' | node -e \
    'let s="";process.stdin.on("data",(d)=>(s+=d)).on("end",()=>console.log(JSON.parse(s).map((p)=>p.version).join(" ")))')
  if [ "$(wc -w <<<"$versions")" -ne 1 ] || [ "${versions%%.*}" != "$major" ]; then
    echo "$name: expected one ioredis $major in the tree, found: ${versions:-none}" >&2
    return 1
  fi
  echo "$name: npm ls clean; one ioredis ($versions)"
}

# typecheck NAME: service.ts under nodenext (as .mts and .cts) and bundler, with every compiler.
typecheck() {
  local dir=$work/$1 v
  cp "$repo/.ci/consumer/service.ts" "$dir/service.ts"
  cp "$repo/.ci/consumer/service.ts" "$dir/service.mts"
  cp "$repo/.ci/consumer/service.ts" "$dir/service.cts"
  local common='"target": "es2022", "strict": true, "noEmit": true, "skipLibCheck": false, "types": ["node"]'
  echo "{ \"compilerOptions\": { \"module\": \"nodenext\", \"moduleResolution\": \"nodenext\", $common }, \"files\": [\"service.mts\", \"service.cts\"] }" >"$dir/tsconfig.nodenext.json"
  echo "{ \"compilerOptions\": { \"module\": \"preserve\", \"moduleResolution\": \"bundler\", $common }, \"files\": [\"service.ts\"] }" >"$dir/tsconfig.bundler.json"
  for v in $TYPESCRIPT_VERSIONS; do
    for resolution in nodenext bundler; do
      # skipLibCheck is off, so that headroom's own .d.ts files are checked as a whole; errors
      # in other packages' declarations (ioredis' refer to the untyped redis-errors) are shown
      # but are not ours: only errors in headroom's files and in the service fail the check.
      local out status=0 all theirs
      out=$(cd "$dir" && node "${tsc[$v]}" -p "tsconfig.$resolution.json" --pretty false) || status=$?
      all=$(grep -c 'error TS' <<<"$out" || true)
      theirs=$(grep -cE '^node_modules/(ioredis|@types/node)/[^ ]+\([0-9]+,[0-9]+\): error TS' <<<"$out" || true)
      if [ "$status" -ne 0 ] && { [ "$all" -eq 0 ] || [ "$all" -gt "$theirs" ]; }; then
        sed 's/^/  /' <<<"$out"
        echo "$1: TypeScript $v, $resolution: type errors in headroom's declarations or the service" >&2
        return 1
      fi
      echo "$1: TypeScript $v, $resolution: no errors in headroom's declarations or the service"
      if [ "$theirs" -gt 0 ]; then
        echo "$1: TypeScript $v, $resolution: $theirs errors in other packages' declarations, not ours:"
        grep -E '^node_modules/' <<<"$out" | sed 's/^/  /'
      fi
    done
  done
}

# load NAME: require() and import() of every subpath, on Node 20 (this one) and the other majors.
load() {
  local dir=$work/$1 node
  cp "$repo/.ci/consumer/load.cjs" "$repo/.ci/consumer/load.mjs" "$dir/"
  for node in "$(command -v node)" $("$repo/.ci/node-versions.sh" $CONSUMER_NODE_MAJORS); do
    local cjs esm
    cjs=$(cd "$dir" && "$node" load.cjs)
    esm=$(cd "$dir" && "$node" load.mjs)
    if [ "$cjs" != "$esm" ]; then
      echo "$1: on Node $("$node" --version), require() and import() export different names:" >&2
      echo "require: $cjs" >&2
      echo "import:  $esm" >&2
      return 1
    fi
    echo "$1: Node $("$node" --version): $(node -p "Object.keys($cjs).length") subpaths load with require() and import(), same names"
  done
}

new_project ioredis6-first
install ioredis6-first ioredis@6 @types/node@20
install ioredis6-first "$tarball"
check_tree ioredis6-first 6
typecheck ioredis6-first
load ioredis6-first

new_project headroom-first
install headroom-first "$tarball"
install headroom-first ioredis@6
check_tree headroom-first 6

new_project ioredis5
install ioredis5 ioredis@5 @types/node@20 "$tarball"
check_tree ioredis5 5
typecheck ioredis5

echo "consumers: the packed package installs, type-checks and loads as a user has it"
