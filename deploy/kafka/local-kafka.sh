#!/usr/bin/env bash
# A local Apache Kafka on loopback for tests, benchmarks and people (issue 14). Test infrastructure only.
#   deploy/kafka/local-kafka.sh start DIR [--brokers N]   fetch on first use (Maven, deploy/kafka/local/pom.xml,
#       cached in $CLAIMGATE_KAFKA_CACHE or ~/.cache/claimgate/kafka-<version>), format KRaft storage under DIR,
#       start N combined broker+controller nodes (default 1) on free loopback ports, return when every node has
#       started; the first line of standard output is the bootstrap servers.
#   deploy/kafka/local-kafka.sh stop DIR   stop exactly the processes `start DIR` started (their recorded PIDs,
#       each checked to still be that node's JVM, so that a PID reused since is never signalled).
#   deploy/kafka/local-kafka.sh restart DIR I   start node I of DIR again (after a test killed it), same ports
#       and storage; returns when it has started.
#   deploy/kafka/local-kafka.sh consume BOOTSTRAP TOPIC   an outside client: Kafka's own console consumer,
#       isolation.level=read_committed, from the beginning; prints "partition offset key" per record and
#       ends after 10 s without one.
#   deploy/kafka/local-kafka.sh fetch   only fetch (make test does it first, so that a failure says so plainly).
# DIR/pids lists the nodes' PIDs in node order; DIR/bootstrap holds the bootstrap servers.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
pom="$here/local/pom.xml"
version=$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom")
cache="${CLAIMGATE_KAFKA_CACHE:-$HOME/.cache/claimgate/kafka-$version}"

die() { echo "local-kafka: $*" >&2; exit 2; }

fetch() {
  local want; want=$(sha256sum "$pom" | cut -c1-64)
  [ "$(cat "$cache/complete" 2>/dev/null)" = "$want" ] && return 0  # fetched for this very pom
  command -v java >/dev/null || die "java not found (apt-get install openjdk-17-jre-headless)"
  command -v mvn >/dev/null || die "mvn not found (apt-get install maven)"
  mkdir -p "$cache"
  rm -rf "$cache/lib.new"
  (cd "$here/local" && mvn -q -B dependency:copy-dependencies -DincludeScope=runtime \
     -DoutputDirectory="$cache/lib.new") >&2 || die "Maven could not fetch Apache Kafka $version"
  # Swapped in whole: a broker running from the old jars keeps the files it has open.
  rm -rf "$cache/lib.old"
  [ -d "$cache/lib" ] && mv "$cache/lib" "$cache/lib.old"
  mv "$cache/lib.new" "$cache/lib"
  rm -rf "$cache/lib.old"
  echo "$want" > "$cache/complete"
}

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# The JVM of node I of DIR: its log goes to DIR/nodeI/server.log (appended), its PID to DIR/nodeI/pid
# and line I of DIR/pids.
launch() {
  local dir=$1 i=$2 node="$1/node$2"
  KAFKA_HEAP_OPTS="" nohup java -Xmx512m -cp "$cache/lib/*" kafka.Kafka "$node/server.properties" \
    >> "$node/server.log" 2>&1 < /dev/null &
  echo $! > "$node/pid"
  local j pids=""
  for ((j = 1; j <= $(ls -d "$dir"/node* | wc -l); j++)); do
    [ -f "$dir/node$j/pid" ] && pids+="$(cat "$dir/node$j/pid")"$'\n'
  done
  printf '%s' "$pids" > "$dir/pids"
}

# Waits until node I has started since its last launch (its log says so after the launch's mark).
await() {
  local dir=$1 i=$2 node="$1/node$2" deadline=$((SECONDS + 120)) pid
  pid=$(cat "$node/pid")
  until [ "$(grep -c "Kafka Server started" "$node/server.log" 2>/dev/null)" -gt "$(cat "$node/starts" 2>/dev/null || echo 0)" ]; do
    if ((SECONDS > deadline)); then stop "$dir"; die "node $i did not start in 120 s"; fi
    if ! kill -0 "$pid" 2>/dev/null; then
      local log; log=$(tail -5 "$node/server.log"); stop "$dir"; die "node $i exited: $log"
    fi
    sleep 0.2
  done
  grep -c "Kafka Server started" "$node/server.log" > "$node/starts"
}

# Whether PID is still the JVM of the node whose properties are PROPS (not a PID reused since).
is_node() { grep -qF "$2" "/proc/$1/cmdline" 2>/dev/null; }

start() {
  local dir=$1 n=$2
  [ -d "$dir" ] && dir=$(cd "$dir" && pwd)
  if [ -d "$dir" ]; then
    local f pid alive=0
    for f in "$dir"/node*/pid; do
      [ -f "$f" ] && pid=$(cat "$f") && is_node "$pid" "$(dirname "$f")/server.properties" && alive=1
    done
    ((alive)) && die "$dir already holds a running cluster (stop it first)"
    rm -rf "$dir"/node* "$dir/pids" "$dir/bootstrap"  # a stopped or killed cluster: start afresh
  fi
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
  for ((i = 1; i <= n; i++)); do launch "$dir" "$i"; done
  echo "$bootstrap" > "$dir/bootstrap"
  for ((i = 1; i <= n; i++)); do await "$dir" "$i"; done
  echo "$bootstrap"
}

stop() {
  local dir f pid props
  dir=$(cd "$1" 2>/dev/null && pwd) || return 0
  [ -f "$dir/pids" ] || return 0
  for f in "$dir"/node*/pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f") props="$(dirname "$f")/server.properties"
    is_node "$pid" "$props" && kill "$pid" 2>/dev/null || true
  done
  local deadline=$((SECONDS + 30))
  for f in "$dir"/node*/pid; do
    [ -f "$f" ] || continue
    pid=$(cat "$f") props="$(dirname "$f")/server.properties"
    while is_node "$pid" "$props"; do
      if ((SECONDS > deadline)); then kill -9 "$pid" 2>/dev/null || true; fi
      sleep 0.2
    done
    rm -f "$f"
  done
  rm -f "$dir/pids"
}

restart() {
  local dir=$1 i=$2
  [ -f "$dir/node$i/server.properties" ] || die "$dir has no node $i"
  is_node "$(cat "$dir/node$i/pid" 2>/dev/null || echo 0)" "$dir/node$i/server.properties" &&
    die "node $i of $dir is running"
  launch "$dir" "$i"
  await "$dir" "$i"
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
  restart)
    [ $# -eq 3 ] || die "usage: $0 restart DIR NODE"
    restart "$(cd "$2" && pwd)" "$3" ;;
  consume)
    [ $# -eq 3 ] || die "usage: $0 consume BOOTSTRAP TOPIC"
    fetch
    java -cp "$cache/lib/*" org.apache.kafka.tools.consumer.ConsoleConsumer --bootstrap-server "$2" \
      --topic "$3" --from-beginning --isolation-level read_committed --timeout-ms 10000 \
      --property print.partition=true --property print.offset=true --property print.key=true \
      --property print.value=false --property key.separator=" " 2>/dev/null |
      sed -e 's/^Partition:\([0-9]*\)\tOffset:\([0-9]*\)\t/\1 \2 /' ;;
  fetch)
    fetch ;;
  *) die "usage: $0 start DIR [--brokers N] | stop DIR | restart DIR NODE | consume BOOTSTRAP TOPIC | fetch" ;;
esac
