# Helpers shared by start-cluster.sh and stop-cluster.sh (sourced; both set $D, the state dir).

# ours NAME PIDFILE: the pid in PIDFILE is a live NAME process that belongs to this state dir ($D)
ours() {
  local pid
  [ -s "$2" ] || return 1
  pid=$(cat "$2")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  [ "$(cat "/proc/$pid/comm" 2>/dev/null)" = "$1" ] || return 1
  grep -qaF "$D/" "/proc/$pid/cmdline" "/proc/$pid/environ" 2>/dev/null
}
