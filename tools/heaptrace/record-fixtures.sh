#!/usr/bin/env bash
# Records the heaptrace v1 fixtures in test/fixtures/heaptrace/ on this machine.
#
#   tools/heaptrace/record-fixtures.sh            record into test/fixtures/heaptrace/
#   tools/heaptrace/record-fixtures.sh DIR        record into DIR
#   tools/heaptrace/record-fixtures.sh --check    record twice into temporary directories and
#                                                 report, per trace, whether the two runs agree
#                                                 and whether they agree with the committed file
#
# Needs: a C compiler (cc, gcc or clang, or $CC), glibc 2.36 (Debian 12), node with the repo's
# dev dependencies (for tools/heaptrace/gen-heapprog.ts), gzip, setarch (util-linux).
# The C tools are built into a temporary directory; nothing outside OUT is written.
#
# Reproducibility:
#  - ASLR is turned off for the traced command (setarch -R), so heap_base and every address are
#    the same from run to run. Without setarch the traces still replay (a replay starts from the
#    trace's own heap_base), but the bytes differ run to run.
#  - The files the programs read are made here (make_tree, make_inputs) or are system files that
#    installing a package does not change (/usr/share/common-licenses/GPL-3, /usr/bin/ls copied for
#    xz, /etc/passwd for ls's owner names). grep -r and find walk /usr/lib/python3.11 instead of a
#    generated tree: their fts keeps a hash of directory inode numbers, so a fresh copy of a tree
#    (new inodes) changes their allocations; a python3.11 upgrade changes them too.
#  - Commands run with an empty environment (env -i) plus PATH, LC_ALL=C, TZ=UTC, HOME, and the
#    hash seeds of perl and python fixed; from a work directory with relative paths, so that no
#    temporary name enters a command line (the "# cmd" line or a buffer size).
#  - Thread ids (the "t<tid>" prefix) differ run to run; --check compares traces with them
#    replaced by "tN".
#  - gzip -n: no name or time stamp in the .gz, so the same trace gives the same bytes.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
fixtures="$repo/test/fixtures/heaptrace"

die() { echo "record-fixtures: $*" >&2; exit 1; }

find_cc() {
  for c in ${CC:-} cc gcc clang; do
    if command -v "$c" >/dev/null 2>&1; then echo "$c"; return 0; fi
  done
  return 1
}

cc=$(find_cc) || die "no C compiler found (looked for \$CC, cc, gcc, clang). Install one (apt-get install gcc) to record fixtures; the committed fixtures stay usable without it."
libc=$(getconf GNU_LIBC_VERSION 2>/dev/null || echo unknown)
if [ "$libc" != "glibc 2.36" ] && [ -z "${HEAPTRACE_ANY_GLIBC:-}" ]; then
  die "this machine runs '$libc'; the fixtures are of glibc 2.36 (Debian 12). Set HEAPTRACE_ANY_GLIBC=1 to record anyway."
fi
command -v node >/dev/null 2>&1 || die "node is needed to generate the heap programs"

norand=()
if setarch "$(uname -m)" -R true 2>/dev/null; then
  norand=(setarch "$(uname -m)" -R)
else
  echo "record-fixtures: setarch -R is not available: addresses will differ from run to run" >&2
fi

tools=$(mktemp -d "${TMPDIR:-/tmp}/heaptrace-tools.XXXXXX")
trap 'rm -rf "$tools"' EXIT

build_tools() {
  "$cc" -O2 -Wall -shared -fPIC -fvisibility=hidden -o "$tools/libmmsim-heaptrace.so" "$here/recorder.c"
  "$cc" -O0 -Wall -o "$tools/heapprog" "$here/heapprog.c"
  "$cc" -O0 -Wall -o "$tools/frag" "$here/programs/frag.c"
  "$cc" -O0 -Wall -pthread -o "$tools/threads" "$here/programs/threads.c"
}

# The heap programs: NAME PROFILE SEED (tools/heaptrace/gen-heapprog.ts).
programs=(
  "prog-mixed-1 mixed 1" "prog-mixed-2 mixed 2" "prog-mixed-3 mixed 3"
  "prog-small-4 small 4" "prog-large-5 large 5" "prog-mmap-6 mmap 6"
  "prog-tuned-7 tuned 7" "prog-tuned-8 tuned 8" "prog-edge-9 edge 9" "prog-edge-10 edge 10"
)

# Inputs the real programs read, made without the recorder, the same on every run.
# A stand-in for /usr/bin and /usr/share/doc, the same on every machine (the real ones change
# whenever a package is installed): 1500 executables and symlinks, 90 documentation
# directories of text and gzipped files, all dated 2023-06-01 so that ls prints a year.
make_tree() {
  local t=$1/tree
  mkdir -p "$t/bin" "$t/doc"
  awk -v t="$t" 'BEGIN {
    for (i = 1; i <= 1500; i++) {
      name = sprintf("%s/bin/%s%d", t, substr("abcdefghijklmnopqrstuvwxyz", i % 26 + 1, 1 + i % 5), i)
      printf "#!/bin/sh\n" > name
      for (k = 0; k < (i * 37) % 200; k++) printf "echo line %d of tool %d\n", k, i > name
      close(name)
    }
    for (d = 1; d <= 90; d++) {
      dir = sprintf("%s/doc/package-%02d", t, d)
      system("mkdir -p " dir)
      for (f = 1; f <= 12; f++) {
        name = sprintf("%s/file-%d.txt", dir, f)
        for (k = 0; k < (d * f * 13) % 150 + 5; k++)
          printf "%s line %d: %s\n", (k % 7 == 0 ? "GNU" : "text"), k, (k % 3 ? "free software" : "documentation") > name
        close(name)
      }
    }
  }'
  chmod 755 "$t"/bin/*
  local i
  for i in $(seq 10 10 1500); do ln -sf "$(ls "$t/bin" | sed -n "${i}p")" "$t/bin/link$i"; done
  for f in "$t"/doc/*/file-3.txt "$t"/doc/*/file-7.txt; do gzip -n -9 "$f"; done
  find "$t" -exec touch -h -d '2023-06-01 12:00:00 UTC' {} +
}

make_inputs() {
  local w=$1
  make_tree "$w"
  awk 'BEGIN { for (i = 1; i <= 20000; i++) printf "%d %d key%d\n", (i * 7919) % 100003, i, i % 613 }' > "$w/in.txt"
  awk 'BEGIN { for (i = 1; i <= 4000; i++) print "line " i }' > "$w/a.txt"
  awk 'BEGIN { for (i = 1; i <= 4000; i++) if (i % 7 == 0) print "changed " i; else if (i % 11 != 0) print "line " i }' > "$w/b.txt"
  mkdir -p "$w/src" "$w/out"
  : > "$w/src/common.h"
  local i objs=""
  for i in $(seq 1 60); do : > "$w/src/unit$i.c"; objs="$objs out/unit$i.o"; done
  printf 'CC = cc\nOBJS =%s\nall: app\napp: $(OBJS)\n\t$(CC) -o $@ $(OBJS)\nout/%%.o: src/%%.c src/common.h\n\t$(CC) -O2 -c -o $@ $<\n' "$objs" > "$w/Makefile"
  cp /usr/bin/ls "$w/ls.bin"
  cp "$here/programs/frag.c" "$w/frag.c"
}

# record NAME PICK CMD...: runs CMD under the recorder in the work dir; keeps the trace of the
# process whose "# cmd" line starts with PICK (a command may start children).
record() {
  local out=$1 w=$2 name=$3 pick=$4
  shift 4
  rm -f "$w"/trace-*.ht
  (cd "$w" && env -i PATH=/usr/bin:/bin LC_ALL=C TZ=UTC HOME=/nonexistent \
      PERL_HASH_SEED=0 PERL_PERTURB_KEYS=0 PYTHONHASHSEED=0 \
      "${norand[@]}" env MMSIM_HEAPTRACE_OUT="$w/trace-%p.ht" LD_PRELOAD="$tools/libmmsim-heaptrace.so" \
      "$@" >/dev/null 2>&1) || {
    # diff and grep exit 1 for "different" / "no match": only a signal spoils a trace
    local rc=$?
    [ "$rc" -lt 128 ] || die "$name: the command died (status $rc): $*"
  }
  local f
  f=$(grep -l -m1 "^# cmd $pick" "$w"/trace-*.ht | head -1) || true
  [ -n "$f" ] || die "$name: no trace of a process started as '$pick'"
  grep -q '^mallinfo2 ' "$f" || die "$name: the trace has no mallinfo2 line (the process did not exit normally)"
  gzip -9n < "$f" > "$out/$name.ht.gz"
}

record_all() {
  local out=$1
  local w
  w=$(mktemp -d "${TMPDIR:-/tmp}/heaptrace-work.XXXXXX")
  mkdir -p "$out"
  make_inputs "$w"

  record "$out" "$w" ls "ls " ls -la tree/bin
  record "$out" "$w" grep "grep " grep -r -c -e import -e def /usr/lib/python3.11
  record "$out" "$w" sed "sed " sed -e 's/\(GNU\)/<\1>/g' -e '/^$/d' /usr/share/common-licenses/GPL-3
  record "$out" "$w" sort "sort " sort -k1n -k3 in.txt
  record "$out" "$w" tar "tar " tar -cf docs.tar tree/doc
  record "$out" "$w" diff "diff " diff -u a.txt b.txt
  record "$out" "$w" awk "awk " awk '{ n[$3]++; s += $1 } END { for (k in n) c++; print c, s }' in.txt
  record "$out" "$w" find "find " find /usr/lib/python3.11 -name '*.py'
  record "$out" "$w" make "make " make -n -f Makefile
  record "$out" "$w" perl "perl " perl -e 'my %h; $h{"k$_"} = [$_, $_ * 2] for 1 .. 5000; my @k = sort keys %h; print scalar(@k), "\n"'
  record "$out" "$w" python3 "python3 " python3 -S -c 'import json; d = {str(i): list(range(i % 50)) for i in range(2000)}; print(len(json.dumps(d, sort_keys=True)))'
  record "$out" "$w" cc1 "/usr/lib/gcc/" gcc -S -o frag.s frag.c
  record "$out" "$w" xz "xz " xz -6 -T1 -k -f ls.bin
  cp "$tools/threads" "$w/threads"
  record "$out" "$w" threads "./threads" ./threads

  cp "$tools/frag" "$w/frag"
  for size in 100 1000 4000 200000; do
    for mode in 1 2; do
      record "$out" "$w" "frag-m$mode-s$size" "./frag" ./frag "$mode" 1000 "$size"
    done
  done

  cp "$tools/heapprog" "$w/heapprog"
  local p name profile seed
  for p in "${programs[@]}"; do
    read -r name profile seed <<<"$p"
    (cd "$repo" && npx --no-install tsx tools/heaptrace/gen-heapprog.ts "$seed" --profile "$profile") > "$w/$name.txt"
    (cd "$w" && env -i PATH=/usr/bin:/bin LC_ALL=C "${norand[@]}" ./heapprog "$name.txt") | gzip -9n > "$out/$name.ht.gz"
  done
  rm -rf "$w"
}

normalized() { gzip -dc "$1" | sed -E 's/^t[0-9]+ /tN /'; }

build_tools
if [ "${1:-}" = "--check" ]; then
  one=$(mktemp -d "${TMPDIR:-/tmp}/heaptrace-one.XXXXXX")
  two=$(mktemp -d "${TMPDIR:-/tmp}/heaptrace-two.XXXXXX")
  record_all "$one"
  record_all "$two"
  status=0
  printf '%-18s %8s  %-12s %s\n' trace lines "run1=run2" "run1=committed"
  for f in "$one"/*.ht.gz; do
    n=$(basename "$f")
    lines=$(gzip -dc "$f" | wc -l)
    if cmp -s <(normalized "$f") <(normalized "$two/$n"); then same=yes; else same=NO; status=1; fi
    if [ -f "$fixtures/$n" ]; then
      if cmp -s <(normalized "$f") <(normalized "$fixtures/$n"); then committed=yes; else committed=no; fi
    else
      committed=absent
    fi
    printf '%-18s %8s  %-12s %s\n' "${n%.ht.gz}" "$lines" "$same" "$committed"
  done
  rm -rf "$one" "$two"
  exit $status
fi

out=${1:-$fixtures}
record_all "$out"
echo "record-fixtures: wrote $(ls "$out"/*.ht.gz | wc -l) traces ($(du -ch "$out"/*.ht.gz | tail -1 | cut -f1)) to $out"
