# Shared settings for the scripts (sourced, not run).
export PATH="$HOME/.cargo/bin:$PATH"
# Build output lives outside the clone so later runs (and CI on this machine) reuse it.
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$HOME/.cache/ims-console-target}"
export LEPTOS_OUTPUT_NAME=ims_console
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"
step() { printf '\n=== %s (%s)\n' "$*" "$(date +%H:%M:%S)"; }
