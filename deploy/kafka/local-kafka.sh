#!/usr/bin/env bash
# A local Apache Kafka on loopback for tests, benchmarks and people (issue 14). Test infrastructure only.
#   deploy/kafka/local-kafka.sh start DIR [--brokers N]   fetch on first use (Maven, deploy/kafka/local/pom.xml,
#       cached in $CLAIMGATE_KAFKA_CACHE or ~/.cache/claimgate/kafka-<version>), format KRaft storage under DIR,
#       start N combined broker+controller nodes (default 1) on free loopback ports, return when every node has
#       started; the first line of standard output is the bootstrap servers.
#   deploy/kafka/local-kafka.sh stop DIR   stop exactly the processes `start DIR` started (their recorded PIDs).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/local/pom.xml"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache="${CLAIMGATE_KAFKA_CACHE:-$HOME/.cache/claimgate/kafka-$version}"

die() { echo "local-kafka: $*" >&2; exit 2; }

fetch() {
  [ -f "$cache/complete" ] && return 0
  command -v java >/dev/null || die "java not found (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  mkdir -p "$cache"
  (cd "$here/local" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
     -DoutputDirectory="$cache/lib") >&2 || die "Maven could not fetch Apache Kafka $version"
  touch "$cache/complete"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() {
  local dir=$1 n=$2
  [ -e "$dir/pids" ] && die "$dir already holds a running cluster (stop it first)"
  fetch
  mkdir -p "$dir"
  dir=$(cd "$dir" && pwd)
  local cp="$cache/lib/*" ports=() cports=() voters="" i
  for ((i = 1; i <= n; i++)); do ports+=("$(free_port)"); cports+=("$(free_port)"); done
  for ((i = 1; i <= n; i++)); do voters+="${voters:+,}$i@127.0.0.1:${cports[i-1]}"; done
  local cluster_id
  cluster_id=$(java -cp "$cp" kafka.tools.StorageTool random-uuid 2>/dev/null | tail -1)
  local bootstrap=""
  for ((i = 1; i <= n; i++)); do
    local node="$dir/node$i" rf=$((n < 3 ? n : 3))
    mkdir -p "$node"
    cat > "$node/server.properties" <<PROPS
process.roles=broker,controller
node.id=$i
controller.quorum.voters=$voters
listeners=PLAINTEXT://127.0.0.1:${ports[i-1]},CONTROLLER://127.0.0.1:${cports[i-1]}
advertised.listeners=PLAINTEXT://127.0.0.1:${ports[i-1]}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
inter.broker.listener.name=PLAINTEXT
log.dirs=$node/data
num.partitions=1
offsets.topic.replication.factor=$rf
transaction.state.log.replication.factor=$rf
transaction.state.log.min.isr=1
min.insync.replicas=1
group.initial.rebalance.delay.ms=0
auto.create.topics.enable=false
PROPS
    java -cp "$cp" kafka.tools.StorageTool format -t "$cluster_id" -c "$node/server.properties" \
      > "$node/format.log" 2>&1 || die "formatting $node failed: $(tail -3 "$node/format.log")"
    bootstrap+="${bootstrap:+,}127.0.0.1:${ports[i-1]}"
  done
  for ((i = 1; i <= n; i++)); do
    local node="$dir/node$i"
    KAFKA_HEAP_OPTS="" nohup java -Xmx512m -cp "$cp" kafka.Kafka "$node/server.properties" \
      > "$node/server.log" 2>&1 < /dev/null &
    echo $! >> "$dir/pids"
  done
  echo "$bootstrap" > "$dir/bootstrap"
  local deadline=$((SECONDS + 120))
  for ((i = 1; i <= n; i++)); do
    until grep -q "Kafka Server started" "$dir/node$i/server.log" 2>/dev/null; do
      if ((SECONDS > deadline)); then stop "$dir"; die "node $i did not start in 120 s"; fi
      if ! kill -0 "$(sed -n "${i}p" "$dir/pids")" 2>/dev/null; then
        local log; log=$(tail -5 "$dir/node$i/server.log"); stop "$dir"; die "node $i exited: $log"
      fi
      sleep 0.2
    done
  done
  echo "$bootstrap"
}

stop() {
  local dir=$1 pid
  [ -f "$dir/pids" ] || return 0
  while read -r pid; do kill "$pid" 2>/dev/null || true; done < "$dir/pids"
  local deadline=$((SECONDS + 30))
  while read -r pid; do
    while kill -0 "$pid" 2>/dev/null; do
      if ((SECONDS > deadline)); then kill -9 "$pid" 2>/dev/null || true; fi
      sleep 0.2
    done
  done < "$dir/pids"
  rm -f "$dir/pids"
}

case "${1:-}" in
  start)
    [ $# -ge 2 ] || die "usage: $0 start DIR [--brokers N]"
    brokers=1
    if [ $# -ge 4 ] && [ "$3" = "--brokers" ]; then brokers=$4; fi
    [[ "$brokers" =~ ^[1-9][0-9]?$ ]] || die "--brokers takes 1 to 99"
    start "$2" "$brokers" ;;
  stop)
    [ $# -eq 2 ] || die "usage: $0 stop DIR"
    stop "$2" ;;
  *) die "usage: $0 start DIR [--brokers N] | stop DIR" ;;
esac
