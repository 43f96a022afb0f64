#!/bin/sh
# make check-valgrind: the unit tests, the evaluator's integration test and the fault test with
# sloe (and evaldriver) under valgrind memcheck. Fails on any memory error or definite or
# indirect leak, printing valgrind's report. Usage: tests/valgrind/run.sh BIN_SLOE TESTS EVALDRIVER
set -u
sloe=$(realpath "$1") tests=$2 evaldriver=$(realpath "$3")
logs=$(realpath -m build/valgrind)
rm -rf "$logs" && mkdir -p "$logs/log"
vg="valgrind -q --error-exitcode=99 --leak-check=full --show-leak-kinds=definite,indirect"
vg="$vg --errors-for-leak-kinds=definite,indirect --track-origins=yes"
for b in sloe evaldriver; do
    eval "target=\$$b"
    printf '#!/bin/sh\nexec %s --log-file=%s/log/%s.%%p.log %s "$@"\n' "$vg" "$logs" "$b" \
        "$target" > "$logs/$b"
    chmod +x "$logs/$b"
done
status=0
echo "valgrind: unit tests"
SLOE_BIN=$logs/sloe $vg --log-file="$logs/log/tests.%p.log" "$tests" || status=1
echo "valgrind: tests/integration/test_eval.py"
SLOE_BIN=$logs/sloe EVALDRIVER=$logs/evaldriver python3 tests/integration/test_eval.py || status=1
echo "valgrind: tests/integration/test_faults.py"
# Under valgrind sloe reads the 64 MiB body far slower: give each query 5 s, not 1 s.
SLOE_BIN=$logs/sloe FAULTS_PROM_TIMEOUT=5 python3 tests/integration/test_faults.py || status=1
runs=$(ls "$logs/log" | wc -l)
reports=$(find "$logs/log" -type f -size +0)
if [ -n "$reports" ]; then
    for r in $reports; do echo "== $r"; cat "$r"; done
    echo "valgrind: memory errors or leaks in $(echo "$reports" | wc -l) of $runs processes"
    status=1
else
    echo "valgrind: $runs processes, no memory error and no definite or indirect leak"
fi
exit $status
