#!/usr/bin/env bash
# Start the services Stagegate's tests and demo need, when they are not already running.
# Usage: .ci/services.sh postgres redis
set -euo pipefail

have() { command -v "$1" >/dev/null 2>&1; }

wait_for() {  # wait_for <what> <command...>: poll until the command succeeds, 30 s at most
  local what=$1; shift
  for _ in $(seq 1 60); do
    if "$@" >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  echo "error: $what did not come up" >&2
  return 1
}

ensure_redis() {
  if have redis-cli && redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then return 0; fi
  if ! have redis-server; then
    if [ "$(id -u)" = 0 ] && have apt-get; then
      echo "Installing redis-server (Debian package)…"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq redis-server >/dev/null
    else
      echo "error: Redis is not running on 127.0.0.1:6379 and redis-server is not installed." >&2
      echo "       Install it (e.g. 'sudo apt-get install redis-server') or set REDIS_URL to a running Redis." >&2
      return 1
    fi
  fi
  echo "Starting redis-server on 127.0.0.1:6379…"
  mkdir -p /tmp/stagegate-redis
  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/stagegate-redis --logfile /tmp/stagegate-redis/redis.log
  wait_for Redis redis-cli -h 127.0.0.1 -p 6379 ping
}

ensure_postgres() {
  if have pg_isready && pg_isready -h 127.0.0.1 -p 5432 -q; then return 0; fi
  if ! ls /etc/postgresql/*/main >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && have apt-get; then
      echo "Installing PostgreSQL (Debian package)…"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
      echo "error: PostgreSQL is not running on 127.0.0.1:5432; install and start it, or set DATABASE_URL." >&2
      return 1
    fi
  fi
  echo "Starting PostgreSQL…"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n1)" main start || true
  wait_for PostgreSQL pg_isready -h 127.0.0.1 -p 5432 -q
}

ensure_chromium() {
  if [ -x /usr/bin/chromium ]; then return 0; fi
  if [ "$(id -u)" = 0 ] && have apt-get; then
    echo "Installing Chromium (Debian package) for the browser tests…"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "error: /usr/bin/chromium is missing; install Debian's chromium package for the browser tests." >&2
    return 1
  fi
}

for service in "$@"; do
  case "$service" in
    redis) ensure_redis ;;
    postgres) ensure_postgres ;;
    chromium) ensure_chromium ;;
    *) echo "unknown service: $service" >&2; exit 2 ;;
  esac
done
