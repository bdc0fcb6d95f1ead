# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the packaging tests (sourced): one line per case, "PASS: <case>" or
# "FAIL: <case>: <why>"; finish exits 1 if any case failed; skip exits 77 (1 where every test must run).
set -u
failures=0
cases=0
pass() { cases=$((cases + 1)); echo "PASS: $*"; }
failed() { cases=$((cases + 1)); failures=$((failures + 1)); echo "FAIL: $*"; }
skip() {
  if [[ ${CREDGATE_REQUIRE_ALL_TESTS:-} == 1 ]]; then echo "FAIL (CREDGATE_REQUIRE_ALL_TESTS=1): $*" >&2; exit 1; fi
  echo "SKIP: $*" >&2
  exit 77
}
finish() {
  echo "== $((cases - failures))/$cases cases passed"
  [[ $failures -eq 0 ]]
  exit
}
