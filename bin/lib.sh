# Shared helpers for bin/ scripts: locate the project, pick the JDK, install what is missing.
# shellcheck shell=bash

VIGIL_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)

# The newest JDK (>= 21) under /usr/lib/jvm, Temurin 25 when present.
vigil_java_home() {
    if [ -n "${VIGIL_JAVA_HOME:-}" ]; then echo "$VIGIL_JAVA_HOME"; return; fi
    local best="" best_v=0 d v
    for d in /usr/lib/jvm/*/; do
        d=${d%/}
        [ -x "$d/bin/javac" ] || continue
        [ -L "$d" ] && continue
        v=$("$d/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p')
        v=${v%%.*}
        if [ -n "$v" ] && [ "$v" -ge 21 ] && [ "$v" -gt "$best_v" ]; then best=$d; best_v=$v; fi
    done
    if [ -z "$best" ]; then
        echo "vigil: no JDK 21 or newer under /usr/lib/jvm (install Temurin 25 or openjdk-21-jdk)" >&2
        return 1
    fi
    echo "$best"
}

# apt-get install the Debian packages whose commands are missing (root only).
vigil_ensure_packages() {
    local missing=() pair cmd pkg
    for pair in "$@"; do
        cmd=${pair%%:*}; pkg=${pair#*:}
        command -v "$cmd" >/dev/null 2>&1 || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "vigil: missing packages: ${missing[*]} (run as root, or apt-get install them)" >&2
        return 1
    fi
    echo "vigil: installing ${missing[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq "${missing[@]}" >&2
}

vigil_daemon_target() { echo "$VIGIL_ROOT/appliance/vigil-daemon/target"; }

# The plugins directory of a source checkout: every build of plugins/* installs its zip there
# (it is also the daemon's default, "plugins" next to its jar). VIGIL_PLUGINS_DIR overrides it.
vigil_plugins_dir() { echo "${VIGIL_PLUGINS_DIR:-$(vigil_daemon_target)/plugins}"; }

# Builds the project unless a build exists (the daemon, its libraries and the plugins).
vigil_ensure_built() {
    local t; t=$(vigil_daemon_target)
    if ls "$t"/vigil-daemon-*.jar >/dev/null 2>&1 && [ -d "$t/lib" ] \
        && ls "$t"/plugins/*.zip >/dev/null 2>&1; then return 0; fi
    vigil_ensure_packages mvn:maven || return 1
    echo "vigil: no build found, building (first use)" >&2
    (cd "$VIGIL_ROOT" && JAVA_HOME=$(vigil_java_home) mvn -B -ntp -DskipTests install) >&2
}

vigil_classpath() {
    local t; t=$(vigil_daemon_target)
    # The daemon's jar, not its test-jar (vigil-daemon-VERSION-tests.jar, for the cross-module specs).
    local jar; jar=$(ls "$t"/vigil-daemon-*.jar | grep -v -- '-tests\.jar$' | head -1)
    echo "$jar:$t/lib/*"
}
