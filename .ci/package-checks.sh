#!/usr/bin/env bash
# Usage: .ci/package-checks.sh   (after `npm run build`)
# The package as the registry would publish it: publint --strict (package.json fields and the
# files they name), arethetypeswrong (types resolve for every subpath under node16, ESM and CJS),
# then the API site, with typedoc's warnings as errors.
set -euo pipefail
cd "$(dirname "$0")/.."
npm run --silent typecheck:ioredis6
npx publint --strict
npx attw --pack . --profile node16
npm run docs
