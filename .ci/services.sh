# Sourced by .ci/run: installs and starts the real services the tests talk to (PostgreSQL, Redis) on
# loopback, and a Python virtual environment with the official `openai` client for the gateway's
# end-to-end tests. Exports their addresses; `stop_services` is called on exit.

RAMPART_CI_DIR="${RAMPART_CI_DIR:-/tmp/rampart-ci}"
PG_PORT="${RAMPART_CI_PG_PORT:-5433}"
REDIS_PORT="${RAMPART_CI_REDIS_PORT:-6390}"
OPENAI_VERSION=3.57.0

install_services() {
  local need=()
  [ -x /usr/lib/postgresql/15/bin/initdb ] || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || need+=(postgresql)
  command -v redis-server >/dev/null || need+=(redis-server)
  python3 -c 'import venv, ensurepip' 2>/dev/null || need+=(python3-venv)
  if [ ${#need[@]} -gt 0 ]; then
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    apt-get install -y -qq "${need[@]}" >/dev/null
  fi
}

start_services() {
  rm -rf "$RAMPART_CI_DIR" && mkdir -p "$RAMPART_CI_DIR"
  chmod 777 "$RAMPART_CI_DIR"

  # PostgreSQL: a throwaway cluster owned by the postgres user, trust auth on loopback only.
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)"
  local pgdata="$RAMPART_CI_DIR/pgdata"
  if [ "$(id -u)" = 0 ]; then
    su postgres -c "$bin/initdb -D $pgdata -A trust -U postgres" >/dev/null
    su postgres -c "$bin/pg_ctl -D $pgdata -o '-p $PG_PORT -k $RAMPART_CI_DIR -c listen_addresses=127.0.0.1' -l $RAMPART_CI_DIR/pg.log -w start" >/dev/null
  else
    "$bin/initdb" -D "$pgdata" -A trust -U postgres >/dev/null
    "$bin/pg_ctl" -D "$pgdata" -o "-p $PG_PORT -k $RAMPART_CI_DIR -c listen_addresses=127.0.0.1" -l "$RAMPART_CI_DIR/pg.log" -w start >/dev/null
  fi
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE ROLE rampart LOGIN PASSWORD 'rampart'" >/dev/null
  psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -qc "CREATE DATABASE rampart_test OWNER rampart" >/dev/null
  export RAMPART_TEST_POSTGRES_URL="postgres://rampart:rampart@127.0.0.1:$PG_PORT/rampart_test"

  # Redis: no persistence, loopback only.
  redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --daemonize yes --save '' --appendonly no \
    --logfile "$RAMPART_CI_DIR/redis.log" >/dev/null
  for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
  redis-cli -p "$REDIS_PORT" ping >/dev/null
  export RAMPART_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/"

  # The official OpenAI Python client, for the gateway's end-to-end tests.
  python3 -m venv "$RAMPART_CI_DIR/venv"
  "$RAMPART_CI_DIR/venv/bin/pip" install -q --disable-pip-version-check "openai==$OPENAI_VERSION"
  export RAMPART_PYTHON="$RAMPART_CI_DIR/venv/bin/python"
}

stop_services() {
  redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
  local bin
  bin="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)"
  if [ -n "$bin" ] && [ -d "$RAMPART_CI_DIR/pgdata" ]; then
    if [ "$(id -u)" = 0 ]; then
      su postgres -c "$bin/pg_ctl -D $RAMPART_CI_DIR/pgdata -m fast stop" >/dev/null 2>&1 || true
    else
      "$bin/pg_ctl" -D "$RAMPART_CI_DIR/pgdata" -m fast stop >/dev/null 2>&1 || true
    fi
  fi
}
