# Benchmarks/common.sh: what the timing benchmarks share (sourced, not run). The caller defines
# die and log, and $repo_root.

# as_root COMMAND...: runs COMMAND as root (sudo only when not root already).
as_root() { if [[ $(id -u) -eq 0 ]]; then "$@"; else sudo "$@"; fi; }

# require_gnu_time: installs GNU time (/usr/bin/time, apt) when missing.
require_gnu_time() {
    if [[ ! -x /usr/bin/time ]]; then
        log "installing GNU time"
        as_root apt-get install -y -q time >&2 || die "could not install GNU time"
    fi
}

# require_kerf: sets KERF to .build/release/kerf (built when missing) unless KERF is given.
require_kerf() {
    if [[ -z "${KERF:-}" ]]; then
        KERF="$repo_root/.build/release/kerf"
        if [[ ! -x "$KERF" ]]; then
            command -v swift >/dev/null || PATH="/opt/swift/usr/bin:$PATH"
            command -v swift >/dev/null || die "swift not found (install Swift 6 in /opt/swift or on PATH)"
            log "building kerf (swift build -c release --product kerf)"
            swift build -c release --product kerf >&2 || die "swift build failed"
        fi
    fi
    [[ -x "$KERF" ]] || die "kerf binary not found: $KERF"
}

# measure TOOL LABEL INPUT [record]: runs the command `cmd_TOOL INPUT OUTDIR` sets up, in a fresh
# $runs_dir/LABEL/out, under GNU time; with `record`, appends "LABEL wall_s rss_kib cpu_s
# time_%e_s" to $results. The caller defines $runs_dir, $results, $bench_name and cmd_TOOL.
measure() {
    local tool=$1 label=$2 input=$3 record=${4:-}
    local dir="$runs_dir/$label"
    rm -rf "$dir"
    mkdir -p "$dir/out"
    local cmd
    "cmd_$tool" "$input" "$dir/out"
    printf '%q ' "${cmd[@]}" > "$dir/command"
    local t0=$EPOCHREALTIME t1
    if ! /usr/bin/time -f '%e %M %U %S' -o "$dir/time" "${cmd[@]}" >"$dir/stdout" 2>"$dir/stderr"; then
        echo "$bench_name: $label failed:" >&2
        tail -n 20 "$dir/stderr" >&2
        exit 1
    fi
    t1=$EPOCHREALTIME
    if [[ -n "$record" ]]; then
        # The last line of the time file holds GNU time's figures. Wall time is taken from
        # $EPOCHREALTIME around it as well, because %e has only 10 ms resolution and cp (and
        # the packagers on short inputs) finish in a few tens of milliseconds.
        tail -n 1 "$dir/time" | awk -v l="$label" -v t0="${t0/,/.}" -v t1="${t1/,/.}" \
            '{ printf "%s %.3f %s %.2f %s\n", l, t1 - t0, $2, $3 + $4, $1 }' >> "$results"
    fi
}


# self_signed_certificate KEY CERT: writes a self-signed P-256 certificate for localhost and
# 127.0.0.1 (valid 2 days) and its key, for the servers of the HTTPS runs.
self_signed_certificate() {
    openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 -subj /CN=localhost \
        -addext subjectAltName=DNS:localhost,IP:127.0.0.1 -keyout "$1" -out "$2" 2>/dev/null
}

# nginx_main_context DIR: prints the main context of a benchmark's nginx.conf: workers on every
# core with descriptors for 16,384 connections each, in the foreground, its error log and pid
# file in DIR (DIR/logs must exist).
nginx_main_context() {
    cat <<EOF
worker_processes auto;
worker_rlimit_nofile 65536;
daemon off;
error_log $1/logs/error.log error;
pid $1/nginx.pid;
events { worker_connections 16384; }
EOF
}
