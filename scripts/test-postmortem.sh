#!/usr/bin/env bash
# After a failed `swift test`: what its log says went wrong, printed last so that the end of a
# CI log names the cause. Usage: test-postmortem.sh LOG STATUS
set -uo pipefail
log=$1
status=$2
echo "== swift test exited with status $status; what its log says:"
grep -a -E "✘|error:|Fatal error|Program crashed|💣|unexpected signal" "$log" | tail -n 60
# A process that died (a crash, a signal) ends with tests that started and never finished.
python3 - "$log" <<'PY'
import re, sys
started, ended = {}, {}
for line in open(sys.argv[1], encoding="utf-8", errors="replace"):
    # `◇ Test "NAME" started.` and `✔ Test "NAME" [with N test cases ]passed after …` (✘ failed);
    # a test's cases (`Test case passing …`) are not counted, nor its recorded issues.
    match = re.search(r'◇ Test "(.*)" started\.', line)
    if match:
        started[match.group(1)] = started.get(match.group(1), 0) + 1
    match = re.search(r'[✔✘] Test "(.*)"(?: with [0-9]+ test cases?)? (?:passed|failed|skipped)', line)
    if match:
        ended[match.group(1)] = ended.get(match.group(1), 0) + 1
unfinished = sorted(name for name, count in started.items() if count > ended.get(name, 0))
print("== %d tests started and never finished%s" % (len(unfinished), ":" if unfinished else ""))
for name in unfinished:
    print("   " + name)
PY
