#!/bin/bash
# The Vigil daemon on IPVS, end to end, inside the qemu guest (the host kernel has no IPVS).
#
#   cl 10.88.0.2 --br0-- 10.88.0.1 lb 10.88.1.1 --br1-- r1 10.88.1.11 (:8080 "r1", :8081 "sorry")
#                   |                                `-- r2 10.88.1.12 (:8080 "r2")
#                   +-- d1 10.88.0.21 (:80 "d1"), d2 10.88.0.22 (:80 "d2"), both holding 10.88.0.101 on lo
#
# One daemon (namespace lb) holds both VIPs by VRRP and forwards 10.88.0.100:80 by NAT to r1/r2 and
# 10.88.0.101:80 by DR to d1/d2. The script only drives and reports: every figure goes to the
# console as a line the host-side spec (tests/.../IpvsDaemonGuestSpec) asserts on:
#
#   VIGIL-RESULT <key> <value>      one value
#   VIGIL-LINE <name> <text>        one line of a captured output (ipvsadm, vigil services, logs)
#
# Run by hand: tests/qemu/run-guest --timeout 900 tests/qemu/scenarios/ipvs-daemon.sh
set -u

work=/tmp/vigil-e2e
mkdir -p "$work"
conf=$work/keepalived.conf
log=$work/daemon.log
JAVA=(java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xmx128m --enable-native-access=ALL-UNNAMED
      -cp '/opt/vigil/*:/opt/vigil/lib/*')

result() { echo "VIGIL-RESULT $1 $2"; }
lines() { # name, then the text on stdin
    local name=$1
    while IFS= read -r l; do echo "VIGIL-LINE $name $l"; done
}
in_ns() { local ns=$1; shift; ip netns exec "$ns" "$@"; }
# The command line, in the director's namespace (the API listens on its loopback); pinned to the
# first vCPU like the daemon (see below).
vigil() { in_ns lb taskset -c 0 "${JAVA[@]}" dev.vigil.daemon.Main "$@"; }
elapsed() { awk '{print $1}' /proc/uptime; }

# ---- the network ---------------------------------------------------------------------------------
for br in br0 br1; do
    ip link add "$br" type bridge
    ip link set "$br" up
done
host() { # name address bridge [interface]
    local ns=$1 addr=$2 br=$3 ifc=${4:-eth0}
    ip netns list | grep -qx "$ns" || { ip netns add "$ns"; in_ns "$ns" ip link set lo up; }
    ip link add "v-$ns-$ifc" type veth peer name "$ifc" netns "$ns"
    ip link set "v-$ns-$ifc" master "$br" up
    in_ns "$ns" ip addr add "$addr" dev "$ifc"
    in_ns "$ns" ip link set "$ifc" up
}
host cl 10.88.0.2/24 br0
host lb 10.88.0.1/24 br0
host lb 10.88.1.1/24 br1 eth1
host r1 10.88.1.11/24 br1
host r2 10.88.1.12/24 br1
host d1 10.88.0.21/24 br0
host d2 10.88.0.22/24 br0
in_ns lb sysctl -qw net.ipv4.ip_forward=1
for rs in r1 r2; do in_ns "$rs" ip route add default via 10.88.1.1; done
# LVS-DR real servers: the VIP on lo, never answered for by ARP (ip-sysctl.rst: arp_ignore,
# arp_announce), so only the director draws the client's packets.
for rs in d1 d2; do
    in_ns "$rs" ip addr add 10.88.0.101/32 dev lo
    for c in all eth0; do
        in_ns "$rs" sysctl -qw "net.ipv4.conf.$c.arp_ignore=1" "net.ipv4.conf.$c.arp_announce=2"
    done
done

serve() { # namespace name port
    local root=$work/www-$2
    mkdir -p "$root"
    echo "$2" > "$root/index.html"
    in_ns "$1" busybox httpd -p "$3" -h "$root"
}
serve r1 r1 8080
serve r1 sorry 8081
serve r2 r2 8080
serve d1 d1 80
serve d2 d2 80

cat > "$work/quorum.sh" <<'EOF'
#!/bin/sh
echo "$1" >> /tmp/vigil-e2e/quorum.log
EOF
chmod +x "$work/quorum.sh"

config() { # NAT scheduler, weights of r1 and r2
    cat > "$conf" <<EOF
global_defs {
    router_id lb
    vigil_forwarder ipvs
}
vrrp_instance VI_1 {
    interface eth0
    virtual_router_id 88
    priority 255
    advert_int 1
    virtual_ipaddress {
        10.88.0.100
        10.88.0.101
    }
}
virtual_server 10.88.0.100 80 {
    lb_algo $1
    lb_kind NAT
    protocol TCP
    quorum_up "$work/quorum.sh up"
    quorum_down "$work/quorum.sh down"
    sorry_server 10.88.1.11 8081
    real_server 10.88.1.11 8080 {
        weight $2
    }
    real_server 10.88.1.12 8080 {
        weight $3
    }
}
virtual_server 10.88.0.101 80 {
    lb_algo wrr
    lb_kind DR
    protocol TCP
    real_server 10.88.0.21 80 {
        weight 3
    }
    real_server 10.88.0.22 80 {
        weight 1
    }
}
EOF
}

# The daemon runs pinned to the first vCPU: under emulation, JIT-compiled code spread over both vCPUs
# now and then crashed the JVM (docs/benchmarks.md, "Forwarder apply"); wrk gets the second.
# ip netns exec and taskset exec what they run, so $! is the JVM's pid (a shell function in the
# background would be a subshell of its own).
start_daemon() {
    ip netns exec lb taskset -c 0 "${JAVA[@]}" dev.vigil.daemon.Main run -f "$conf" >> "$log" 2>&1 &
    daemon=$!
}
# Waits until the daemon's log has a line containing $1 after line $2; 0 when it came.
await_log() {
    local fragment=$1 from=${2:-0} i
    for i in $(seq 600); do
        tail -n +"$((from + 1))" "$log" | grep -qF -- "$fragment" && return 0
        kill -0 "$daemon" 2>/dev/null || { echo "daemon exited"; return 1; }
        sleep 0.2
    done
    return 1
}
log_lines() { wc -l < "$log"; }

# n requests to a URL from the client, a connection each: the answering servers' names in order.
requests() {
    in_ns cl bash -c "for i in \$(seq $1); do timeout 5 wget -q -O - $2 2>/dev/null || echo FAILED; done"
}
count() { grep -cx "$1" || true; }
report_split() { # key, then the answers on stdin
    local answers key=$1
    answers=$(cat)
    result "$key.total" "$(printf '%s\n' "$answers" | grep -c .)"
    for name in r1 r2 d1 d2 sorry FAILED; do
        result "$key.$name" "$(printf '%s\n' "$answers" | count "$name")"
    done
}
listing() { # name: vigil services and ipvsadm -Ln side by side, with --stats when asked
    vigil services "${@:2}" 2>&1 | lines "$1.vigil"
    in_ns lb ipvsadm -Ln "${@:2}" | lines "$1.ipvsadm"
}

# ---- 1. start: both services in place, listed as the configuration says ---------------------------
config rr 1 1
t0=$(elapsed)
start_daemon
await_log 'forwarder: applied 2 services added, 4 real servers added (configuration)'
result start.applied $?
await_log 'VI_1: started: MASTER'
result start.master $?
result start.seconds "$(awk -v a="$t0" -v b="$(elapsed)" 'BEGIN{printf "%.1f", b-a}')"
for i in $(seq 100); do in_ns lb ip -4 addr show dev eth0 | grep -q 10.88.0.101 && break; sleep 0.2; done
in_ns lb ip -4 addr show dev eth0 | grep -o 'inet [0-9./]*' | lines vips
listing start
in_ns lb ipvsadm -Sn | lines start.save

# ---- 2. traffic: NAT round robin, DR weighted round robin -----------------------------------------
requests 400 http://10.88.0.100/ | report_split nat.rr
requests 400 http://10.88.0.101/ | report_split dr.wrr
# The real servers of DR answer the client directly, from the VIP: the client's socket names it.
in_ns cl bash -c 'exec 3<>/dev/tcp/10.88.0.101/80; printf "GET / HTTP/1.0\r\n\r\n" >&3; cat <&3' \
    | tail -1 | lines dr.direct
in_ns d1 ip neigh show 10.88.0.2 | lines dr.d1.neigh
# IPVS folds its per-CPU counters into what it reports every two seconds (its rate estimator).
sleep 3
listing traffic --stats

# ---- 3. a reload to wrr 3:1 -------------------------------------------------------------------------
from=$(log_lines)
config wrr 3 1
kill -HUP "$daemon"
await_log 'forwarder: applied 1 service changed, 1 real server changed (configuration)' "$from"
result reload.applied $?
requests 400 http://10.88.0.100/ | report_split nat.wrr
listing reload

# ---- 4. real servers taken out through the command, then the sorry server ---------------------------
vigil real-server 10.88.0.100:80 10.88.1.12:8080 down 2>&1 | lines rs.down
result rs.down.exit "${PIPESTATUS[0]}"
requests 100 http://10.88.0.100/ | report_split nat.one-out
listing one-out
vigil real-server 10.88.0.100:80 10.88.1.11:8080 down 2>&1 | lines rs.down2
requests 20 http://10.88.0.100/ | report_split nat.sorry
listing sorry
sleep 1
lines quorum.sorry < "$work/quorum.log"
vigil real-server 10.88.0.100:80 10.88.1.11:8080 up > /dev/null 2>&1
vigil real-server 10.88.0.100:80 10.88.1.12:8080 up > /dev/null 2>&1
requests 40 http://10.88.0.100/ | report_split nat.back
sleep 1
lines quorum.back < "$work/quorum.log"

# ---- 5. SIGKILL and restart under wrk: the new daemon adopts the rules --------------------------------
sleep 3
in_ns lb ipvsadm -Sn > "$work/before.save"
in_ns lb ipvsadm -Ln --stats > "$work/before.stats"
lines restart.before.stats < "$work/before.stats"
# The guest has no /etc/services: the port is spelled out.
ip netns exec cl taskset -c 1 wrk -t 1 -c 4 -d 40s -H 'Connection: close' http://10.88.0.100:80/ > "$work/wrk.txt" 2>&1 &
wrk=$!
sleep 5
kill -KILL "$daemon"
wait "$daemon" 2>/dev/null
result restart.killed $?
from=$(log_lines)
t0=$(elapsed)
start_daemon
await_log 'already in place, adopted unchanged' "$from"
result restart.adopted $?
result restart.seconds "$(awk -v a="$t0" -v b="$(elapsed)" 'BEGIN{printf "%.1f", b-a}')"
tail -n +"$((from + 1))" "$log" | grep 'forwarder:' | lines restart.log
wait "$wrk"
result restart.wrk.exit $?
lines wrk < "$work/wrk.txt"
in_ns lb ipvsadm -Sn > "$work/after.save"
lines restart.after.save < "$work/after.save"
cmp -s "$work/before.save" "$work/after.save"
result restart.same-rules $?
sleep 3
in_ns lb ipvsadm -Ln --stats | lines restart.after.stats

# ---- 6. SIGTERM removes the services ----------------------------------------------------------------
kill -TERM "$daemon"
for i in $(seq 150); do kill -0 "$daemon" 2>/dev/null || break; sleep 0.2; done
wait "$daemon"
result stop.exit $?
in_ns lb ipvsadm -Sn | lines stop.save
result stop.services "$(in_ns lb ipvsadm -Sn | grep -c '^-A')"
lines daemon.log < "$log"
exit 0
