#!/usr/bin/env bash
# Times the incremental rebuild of a crate with 100 #[derive(Table)] structs, next to the same
# structs with serde derives only. See README.md beside this file.
#
# usage: measure.sh [--runs N] [--edit comment|touch|field] [--check] [--no-timings]
#                   [--tables N] [--variants "rls serde ..."] [--snapshot] [WORKDIR]
#
#   WORKDIR     where the crates are generated (WORKDIR/<variant>, each with its own target/);
#               default: a fresh temporary directory. Reusing one skips the first full build.
#   --runs N    timed rebuilds per variant (default 5); each time and the median are printed.
#   --edit      what changes before each rebuild: `comment` (default) appends a comment line
#               to src/lib.rs, `touch` only bumps its mtime, `field` renames the `title`
#               field of the middle table (a real change to one struct's expansion).
#   --check     also time `cargo check` after the same edit, per variant.
#   --no-timings  skip the extra `cargo build --timings` rebuild that reports the time of the
#               hundred_tables unit itself (frontend = parsing, macro expansion, type
#               checking; codegen = LLVM).
#   --variants  which crates (default "rls serde"): rls, serde, plain (no derive),
#               rls-no-policies, rls-no-fk; see generate.sh.
#   --snapshot  depend on a copy of the repository's committed HEAD (`git archive`, into
#               WORKDIR/rls-src) instead of the live work tree, which others may be editing.
#
# Before each timed rebuild an untimed `cargo build` brings the dependencies up to date: rls is
# a path dependency on this repository, which others may be editing. A timed rebuild that
# recompiled anything besides hundred_tables is discarded and done again.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
runs=5
edit=comment
check=0
timings=1
tables=100
variants="rls serde"
snapshot=0
work=""
while (($#)); do
    case "$1" in
        --runs) runs="$2"; shift ;;
        --edit) edit="$2"; shift ;;
        --check) check=1 ;;
        --no-timings) timings=0 ;;
        --tables) tables="$2"; shift ;;
        --variants) variants="$2"; shift ;;
        --snapshot) snapshot=1 ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "measure.sh: unknown option $1" >&2; exit 2 ;;
        *) work="$1" ;;
    esac
    shift
done
case "$edit" in comment|touch|field) ;; *) echo "measure.sh: --edit comment|touch|field" >&2; exit 2 ;; esac
[[ "$runs" =~ ^[1-9][0-9]*$ ]] || { echo "measure.sh: --runs needs a positive number" >&2; exit 2; }
if [[ -z "$work" ]]; then
    work="$(mktemp -d "${TMPDIR:-/tmp}/rls-compile-time.XXXXXX")"
fi
mkdir -p "$work"
work="$(cd "$work" && pwd)"

repo="$(cd "$here/../.." && pwd)"
if ((snapshot)); then
    rev="$(git -C "$repo" rev-parse --short HEAD)"
    rm -rf "$work/rls-src"
    mkdir -p "$work/rls-src"
    git -C "$repo" archive HEAD | tar -x -C "$work/rls-src"
    repo="$work/rls-src"
fi

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }
median() { # numbers as arguments
    printf '%s\n' "$@" | sort -g | awk '{ v[NR] = $1 } END {
        if (NR % 2) printf "%.3f", v[(NR + 1) / 2]; else printf "%.3f", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

# Runs cargo in the crate, logging to $log; retries while the dependency build fails (someone
# may be half-way through an edit of the repository).
settle() { # dir
    local tries=0
    until (cd "$1" && cargo build --quiet) >"$1/settle.log" 2>&1; do
        tries=$((tries + 1))
        if ((tries >= 6)); then
            echo "measure.sh: cargo build keeps failing in $1:" >&2
            tail -n 30 "$1/settle.log" >&2
            exit 1
        fi
        echo "  (build failed, retrying in 10 s: the repository may be mid-edit)" >&2
        sleep 10
    done
}

make_edit() { # dir
    local lib="$1/src/lib.rs"
    case "$edit" in
        comment) echo "// rebuild $(now)" >>"$lib" ;;
        touch) touch "$lib" ;;
        field)
            # A new name each time (this runs in a subshell: no counter survives).
            sed -i "/^pub struct Table$((tables / 2)) {/,/^}/ s/pub title[_a-z0-9]*:/pub title_$(date +%s%N):/" "$lib"
            ;;
    esac
}

# One timed `cargo <cmd>` after an edit; prints the seconds. Retries (up to 5 times) when the
# build recompiled anything but hundred_tables.
timed() { # dir cmd
    local dir="$1" cmd="$2" attempt start end others
    for attempt in 1 2 3 4 5 6; do
        settle "$dir"
        [[ $cmd == check ]] && (cd "$dir" && cargo check --quiet >/dev/null 2>&1 || true)
        make_edit "$dir"
        start=$(now)
        if ! (cd "$dir" && cargo "$cmd") >"$dir/timed.log" 2>&1; then
            end=$(now)
            if grep -q 'Compiling hundred_tables' "$dir/timed.log" && ! grep -Eq 'Compiling (pgrls|rls-core|rls-macros) ' "$dir/timed.log"; then
                echo "measure.sh: cargo $cmd failed in $dir:" >&2
                tail -n 30 "$dir/timed.log" >&2
                exit 1
            fi
            continue
        fi
        end=$(now)
        others=$(grep -E '^ *(Compiling|Checking) ' "$dir/timed.log" | grep -v ' hundred_tables ' || true)
        if [[ -z "$others" ]]; then
            elapsed "$start" "$end"
            return
        fi
        echo "  (discarded: the rebuild also compiled $(echo "$others" | awk '{print $2}' | tr '\n' ' '))" >&2
    done
    echo "measure.sh: could not get a rebuild of hundred_tables alone in $dir" >&2
    exit 1
}

echo "rls compile-time benchmark: $tables tables, $runs rebuilds per variant, edit = $edit"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC'), $(nproc) cores, $(rustc --version)"
echo "load before: $(uptime | sed 's/.*load average/load average/')"
echo "work dir: $work"
echo "rls from: $repo$( ((snapshot)) && echo " (HEAD $rev)")"
echo

declare -A medians
for variant in $variants; do
    flags=()
    case "$variant" in
        rls) ;;
        serde) flags=(--serde) ;;
        plain) flags=(--plain) ;;
        rls-no-policies) flags=(--no-policies) ;;
        rls-no-fk) flags=(--no-fk) ;;
        *) echo "measure.sh: unknown variant $variant" >&2; exit 2 ;;
    esac
    dir="$work/$variant"
    "$here/generate.sh" "${flags[@]}" --repo "$repo" --tables "$tables" "$dir" >/dev/null
    echo "== $variant ($dir)"

    # The first build: every dependency, then the crate. Its warnings are replayed by cargo
    # when the crate is already built, so the check holds for a reused work dir too.
    start=$(now)
    settle "$dir"
    echo "  initial build (dependencies too, unless WORKDIR was reused): $(elapsed "$start" "$(now)") s"
    (cd "$dir" && cargo build) >"$dir/first.log" 2>&1
    if grep -Eq '^(warning|error).*`hundred_tables`|^ *--> src/' "$dir/first.log"; then
        echo "  WARNINGS in the generated crate:"
        sed 's/^/    /' "$dir/first.log"
        echo "measure.sh: the generated $variant crate must compile without warnings" >&2
        exit 1
    fi
    echo "  compiles without warnings"

    times=()
    for ((i = 1; i <= runs; i++)); do
        t=$(timed "$dir" build)
        times+=("$t")
        echo "  cargo build #$i: $t s"
    done
    medians[$variant]=$(median "${times[@]}")
    echo "  cargo build median: ${medians[$variant]} s"

    if ((check)); then
        ctimes=()
        for ((i = 1; i <= runs; i++)); do
            t=$(timed "$dir" check)
            ctimes+=("$t")
            echo "  cargo check #$i: $t s"
        done
        medians[$variant-check]=$(median "${ctimes[@]}")
        echo "  cargo check median: ${medians[$variant-check]} s"
    fi

    if ((timings)); then
        settle "$dir"
        make_edit "$dir"
        (cd "$dir" && cargo build --timings) >"$dir/timings.log" 2>&1
        html="$dir/target/cargo-timings/cargo-timing.html"
        if [[ -f $html ]] && command -v python3 >/dev/null; then
            python3 - "$html" <<'EOF'
import json, re, sys
text = open(sys.argv[1]).read()
m = re.search(r"const UNIT_DATA = (\[.*?\n\]);", text, re.S)
units = [u for u in json.loads(m.group(1)) if u["name"] == "hundred_tables"] if m else []
for u in units:
    parts = ", ".join(f"{name} {s['end'] - s['start']:.2f} s" for name, s in (u.get("sections") or []))
    print(f"  --timings, hundred_tables unit: {u['duration']:.2f} s ({parts or 'no sections'})")
if not units:
    print("  --timings: no hundred_tables unit found in the report")
EOF
        else
            echo "  --timings report: $html (python3 missing or no report)"
        fi
    fi
    echo
done

echo "load after: $(uptime | sed 's/.*load average/load average/')"
echo "summary (median of $runs, seconds):"
for variant in $variants; do
    line="  $variant: build ${medians[$variant]}"
    ((check)) && line+=", check ${medians[$variant-check]}"
    echo "$line"
done
