#!/usr/bin/env bash
# The static checks of STYLE.md, "Tooling": what CI runs and what pre-commit runs locally.
# Runs every check even when one fails, then exits non-zero if any failed.
#   scripts/check.sh            all checks
#   scripts/check.sh ruff mypy  only these (ruff, format, imports, mypy, migrations)
set -uo pipefail

cd "$(dirname "$0")/.."
BIN="${VENV_BIN:-.venv/bin}"
# The settings the mypy plugin and makemigrations import; no check needs a running database.
export DJANGO_SETTINGS_MODULE="${DJANGO_SETTINGS_MODULE:-aftersales.settings_test}"

checks=("$@")
[ ${#checks[@]} -eq 0 ] && checks=(ruff format imports mypy migrations)

failed=()
run() {
    local name=$1
    shift
    printf '[check] %s: %s\n' "$name" "$*"
    if ! "$@"; then
        failed+=("$name")
    fi
}

for check in "${checks[@]}"; do
    case "$check" in
        ruff) run ruff "$BIN/ruff" check . ;;
        format) run format "$BIN/ruff" format --check . ;;
        imports) run imports "$BIN/lint-imports" ;;
        mypy) run mypy "$BIN/mypy" . ;;
        # makemigrations also checks the migration history against the database when one answers;
        # without one it warns and still compares the models with the migrations.
        migrations) run migrations "$BIN/python" manage.py makemigrations --check --dry-run -v 1 ;;
        *)
            printf '[check] unknown check %s (ruff, format, imports, mypy, migrations)\n' "$check" >&2
            exit 2
            ;;
    esac
done

if [ ${#failed[@]} -gt 0 ]; then
    printf '[check] FAILED: %s\n' "${failed[*]}"
    exit 1
fi
printf '[check] all passed: %s\n' "${checks[*]}"
