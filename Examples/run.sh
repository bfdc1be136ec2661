#!/usr/bin/env bash
# Builds and runs the examples, and checks what they recorded (CI runs this
# from .ci/run; Examples/README.md says what each example shows):
#
# 1. EchoServer against concurrent clients (Examples/EchoServer/clients.py):
#    the segments it exports on SIGUSR1, and those left in its directory
#    after SIGTERM, decoded by sockstat-convert, hold exactly the bytes each
#    client sent and received, under that client's label.
# 2. FirstApp, which depends on SockStatLog by git URL and version: this
#    checkout's files (as they are, committed or not) are committed to a
#    temporary git repository tagged 0.15.0, and SOCKSTATLOG_URL points there.
# 3. A recorder-only app, written here, depending on that tag with
#    `traits: []`: it builds and records, and its Package.resolved names no
#    swift-nio.
#
# Debug builds. Exits 1 at the first check that fails, saying which.
set -euo pipefail
root="$(cd "$(dirname "$0")/.." && pwd)"
examples="$root/Examples"
version=0.15.0  # the version FirstApp's Package.swift asks for
# EchoServer and FirstApp build into one scratch directory: both depend on
# the same swift-nio, which is then compiled once (most of the build time).
# SwiftPM re-resolves when the package changes, and recompiles only what
# differs (SockStatLog's own targets: a path there, a tagged URL here).
scratch="$examples/.build"
work="$(mktemp -d "${TMPDIR:-/tmp}/sockstatlog-examples.XXXXXX")"
server_pid=
cleanup() {
    if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
    rm -rf "$work"
    # SwiftPM's lock files for the scratch directories under $work.
    rm -f "/tmp/$(tr / _ <<< "$work")"_*.lock
}
trap cleanup EXIT

step() { echo "== $* (at ${SECONDS} s)"; }
fail() { echo "Examples/run.sh: $*" >&2; exit 1; }

# Waits up to 60 s for the echo server to print a line matching $1, and prints it.
await_server_line() {
    local line
    for _ in $(seq 600); do
        if line=$(grep -m1 -E "$1" "$work/server.out"); then echo "$line"; return; fi
        kill -0 "$server_pid" 2>/dev/null || fail "the echo server exited early: $(cat "$work/server.out")"
        sleep 0.1
    done
    fail "the echo server did not print '$1' within 60 s: $(cat "$work/server.out")"
}

step "building sockstat-convert and Examples/EchoServer"
swift build --package-path "$root" --product sockstat-convert
convert="$(swift build --package-path "$root" --show-bin-path)/sockstat-convert"
swift build --package-path "$examples/EchoServer" --scratch-path "$scratch"
echo_server="$scratch/debug/EchoServer"
clients="$examples/EchoServer/clients.py"

step "EchoServer: 6 concurrent clients, then SIGUSR1 exports the segments"
mkdir "$work/recording" "$work/outbox"
"$echo_server" "$work/recording" "$work/outbox" > "$work/server.out" 2>&1 &
server_pid=$!
port=$(await_server_line '^listening on ' | sed 's/.*://')
python3 "$clients" run "$port" 6 1 > "$work/first-clients.json"
kill -USR1 "$server_pid"
await_server_line '^export'
grep -q '^exported' "$work/server.out" || fail "the export failed: $(cat "$work/server.out")"
"$convert" decode "$work/outbox" > "$work/exported.jsonl"
python3 "$clients" check "$work/first-clients.json" "$work/exported.jsonl"

step "EchoServer: 4 more clients, then SIGTERM: the rest is in its directory"
python3 "$clients" run "$port" 4 2 > "$work/second-clients.json"
kill -TERM "$server_pid"
wait "$server_pid" || fail "the echo server exited with status $?: $(cat "$work/server.out")"
server_pid=
tail -1 "$work/server.out"
"$convert" decode "$work/recording" > "$work/recorded.jsonl"
python3 "$clients" check "$work/second-clients.json" "$work/recorded.jsonl"

step "FirstApp: SockStatLog by URL, from: \"$version\" (a tagged snapshot of this checkout)"
git -C "$root" rev-parse --git-dir >/dev/null 2>&1 || fail "$root is not a git checkout (FirstApp needs its files listed by git)"
snapshot="$work/sockstatlog"  # the last path component names the package: "sockstatlog"
mkdir "$snapshot"
# Tracked and new files, as they are now (a deleted file is skipped), so the
# tag holds what the rest of CI tests.
(cd "$root" && git ls-files -z --cached --others --exclude-standard \
    | tar --null -T - --ignore-failed-read -cf - 2>/dev/null) | tar -C "$snapshot" -xf -
git -C "$snapshot" init -q
git -C "$snapshot" add -A
git -C "$snapshot" -c user.name=Examples -c user.email=examples@localhost commit -q -m "snapshot of $root"
git -C "$snapshot" tag "$version"
export SOCKSTATLOG_URL="file://$snapshot"
# A pin or a clone of an earlier run's snapshot names a repository that is gone.
rm -rf "$examples/FirstApp/Package.resolved" "$scratch"/repositories/sockstatlog-* "$scratch/checkouts/sockstatlog"
swift build --package-path "$examples/FirstApp" --scratch-path "$scratch"
"$scratch/debug/FirstApp"

# From an empty directory, with a scratch directory of its own: what it
# resolves is what a new user's app would.
step "a recorder-only app: from: \"$version\", traits: [] resolves no swift-nio"
app="$work/RecorderOnly"
mkdir -p "$app/Sources/RecorderOnly"
cat > "$app/Package.swift" <<EOF
// swift-tools-version: 6.2
import PackageDescription

let package = Package(
    name: "RecorderOnly",
    dependencies: [
        // No traits: SockStatLog's default trait NIO (SockStatNIO) is off.
        .package(url: "$SOCKSTATLOG_URL", from: "$version", traits: []),
    ],
    targets: [
        .executableTarget(name: "RecorderOnly", dependencies: [
            .product(name: "SockStatRecorder", package: "sockstatlog"),
        ]),
    ]
)
EOF
cat > "$app/Sources/RecorderOnly/main.swift" <<'EOF'
import SockStatRecorder

// Counts 100 bytes sent and 200 received under "app", records them into
// the directory given, and prints the JSON lines a drain gives back.
let directory = CommandLine.arguments[1]
let counters = InProcessCounters()
let recorder = try Recorder(source: counters, options: RecorderOptions(directory: directory))
recorder.poll()
try counters.counter(for: "app").add(sent: 100, received: 200)
recorder.poll()
recorder.shutdown()
try recorder.drain { print(String(decoding: $0, as: UTF8.self), terminator: "") }
EOF
swift build --package-path "$app"
[ -f "$app/Package.resolved" ] || fail "$app has no Package.resolved"
if grep -qi 'swift-nio' "$app/Package.resolved"; then
    fail "a recorder-only app with traits: [] resolved swift-nio: $(cat "$app/Package.resolved")"
fi
echo "Package.resolved: $(grep -o '"identity" : "[^"]*"' "$app/Package.resolved" | sed 's/.*: //' | tr '\n' ' ')"
lines=$("$app/.build/debug/RecorderOnly" "$work/recorder-only")
echo "$lines"
grep -q '"s":{"app":\[100,200\]}' <<< "$lines" || fail "the recorder-only app did not record app [100,200]"

step "examples passed"
