#!/usr/bin/env bash
# Runs every fuzz target in the module for FUZZTIME (default 20s) each.
set -euo pipefail
fuzztime=${FUZZTIME:-20s}
grep -rl --include='*_test.go' '^func Fuzz' . | sort | while read -r file; do
  dir=./$(dirname "${file#./}")
  for fn in $(grep -o '^func Fuzz[A-Za-z0-9_]*' "$file" | cut -d' ' -f2); do
    echo "== fuzz $dir $fn ($fuzztime)"
    go test -run '^$' -fuzz "^${fn}\$" -fuzztime "$fuzztime" "$dir"
  done
done
