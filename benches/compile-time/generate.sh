#!/usr/bin/env bash
# Generates a standalone crate `hundred_tables` with N (default 100) model structs, to time
# how long a crate full of `#[derive(Table)]` takes to rebuild.
#
# usage: generate.sh [--serde] [--tables N] [--no-policies] [--no-fk] [--plain] [--repo PATH] [DIR]
#
#   DIR            where the crate goes (created; an existing src/lib.rs is overwritten);
#                  default: a fresh temporary directory. The crate's path is printed last.
#   --serde        baseline: the same structs with #[derive(serde::Serialize,
#                  serde::Deserialize)] only, no rls (depends on serde + time/serde).
#   --tables N     N structs instead of 100.
#   --no-policies  rls variant without #[crud_policy] / #[policy] (to see what they cost).
#   --no-fk        rls variant without the `references` columns.
#   --plain        the same structs with no derive at all (rustc's floor for the file).
#   --repo PATH    the rls repository to depend on (default: the one holding this script).
#
# Table k (0-based) has: id (i64 identity primary key), user_id (String, default
# auth_user_id()), title (String), notes (Option<String>), done (bool, default false),
# created_at (time::OffsetDateTime, default now()), and for k > 0 parent_id referencing
# Table{k-1}::id on delete cascade. Every 5th table (k = 4, 9, ..., 99) also has
# `archived: bool` and a restrictive update policy `using = !archived`. Every rls table has
# #[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))].
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/../.." && pwd)"

variant=rls
tables=100
policies=1
fks=1
dir=""
while (($#)); do
    case "$1" in
        --serde) variant=serde ;;
        --plain) variant=plain ;;
        --tables) tables="$2"; shift ;;
        --tables=*) tables="${1#*=}" ;;
        --no-policies) policies=0 ;;
        --no-fk) fks=0 ;;
        --repo) repo="$(cd "$2" && pwd)"; shift ;;
        -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
        -*) echo "generate.sh: unknown option $1" >&2; exit 2 ;;
        *) dir="$1" ;;
    esac
    shift
done
[[ "$tables" =~ ^[1-9][0-9]*$ ]] || { echo "generate.sh: --tables needs a positive number" >&2; exit 2; }
if [[ -z "$dir" ]]; then
    dir="$(mktemp -d "${TMPDIR:-/tmp}/hundred_tables.XXXXXX")"
fi
mkdir -p "$dir/src"
dir="$(cd "$dir" && pwd)"

# --- Cargo.toml: its own [workspace], so cargo does not look for ours above it.
{
    cat <<EOF
[package]
name = "hundred_tables"
version = "0.1.0"
edition = "2024"
publish = false

[workspace]

[dependencies]
EOF
    case "$variant" in
        rls)
            echo "pgrls = { path = \"$repo\", features = [\"time\"] }"
            echo 'time = "0.3"'
            ;;
        serde)
            echo 'serde = { version = "1", features = ["derive"] }'
            echo 'time = { version = "0.3", features = ["serde"] }'
            ;;
        plain)
            echo 'time = "0.3"'
            ;;
    esac
} >"$dir/Cargo.toml"

# --- src/lib.rs
col() { # col ATTR FIELD: one field; its #[column(ATTR)] only in the rls variant
    if [[ $variant == rls && -n "$1" ]]; then echo "    #[column($1)]"; fi
    echo "    pub $2,"
}
{
    echo "//! $tables generated model structs ($variant variant), written by benches/compile-time/generate.sh."
    echo
    [[ $variant == rls ]] && echo "use pgrls::Table;" && echo
    for ((k = 0; k < tables; k++)); do
        every5=$((k % 5 == 4))
        echo "/// Generated table $k."
        case "$variant" in
            rls) echo "#[derive(Table)]" ;;
            serde) echo "#[derive(serde::Serialize, serde::Deserialize)]" ;;
        esac
        if [[ $variant == rls && $policies == 1 ]]; then
            echo "#[crud_policy(role = authenticated, read = auth_uid(user_id), modify = auth_uid(user_id))]"
            if ((every5)); then
                echo "#[policy(name = \"archived rows are read-only\", as = restrictive, for = update, to = authenticated, using = !archived)]"
            fi
        fi
        echo "pub struct Table$k {"
        col "primary_key, identity" "id: i64"
        col "default = auth_user_id()" "user_id: String"
        col "" "title: String"
        col "" "notes: Option<String>"
        col "default = false" "done: bool"
        if ((every5)); then
            col "default = false" "archived: bool"
        fi
        col "default = now()" "created_at: time::OffsetDateTime"
        if ((k > 0 && fks)); then
            col "references = Table$((k - 1))::id, on_delete = cascade" "parent_id: i64"
        fi
        echo "}"
        echo
    done
    if [[ $variant == rls ]]; then
        echo "/// Every generated table."
        echo "pub const SCHEMA: pgrls::Schema = pgrls::Schema::new(&["
        for ((k = 0; k < tables; k++)); do
            echo "    Table$k::TABLE,"
        done
        echo "]);"
    fi
} >"$dir/src/lib.rs"

echo "$dir"
