#!/usr/bin/env bash
# A throwaway PostgreSQL server for the tests (and for trying the PostgreSQL store):
#
#   bash scripts/postgres.sh start   # install PostgreSQL if missing, start a cluster, print its URL
#   bash scripts/postgres.sh url     # print the URL of the running cluster
#   bash scripts/postgres.sh stop    # stop it and delete its directory
#
#   export SAGACTL_TEST_POSTGRES_URL=$(bash scripts/postgres.sh start)
#
# The cluster lives in $SAGACTL_PG_DIR (default: $TMPDIR/sagactl-postgres), owned by the
# `postgres` user when run as root (initdb refuses to run as root), listens on 127.0.0.1 only,
# on the first free port from $SAGACTL_PG_PORT (default 55432), and has a database
# `sagactl_test` owned by a role `sagactl` with a random password (password authentication
# over TCP, so that a wrong password is refused). TLS is on, with a self-signed certificate
# ($SAGACTL_PG_DIR/server.crt). Durability settings are initdb's defaults (fsync on).
# `start` and `stop` are idempotent: starting a running cluster prints its URL again.
set -euo pipefail

DIR=${SAGACTL_PG_DIR:-${TMPDIR:-/tmp}/sagactl-postgres}
FIRST_PORT=${SAGACTL_PG_PORT:-55432}
DATA=$DIR/data

die() { echo "postgres.sh: $*" >&2; exit 1; }

# The directory of pg_ctl and initdb: Debian keeps them under /usr/lib/postgresql/<version>/bin.
find_bin() {
  local candidate
  if candidate=$(command -v pg_ctl 2>/dev/null) && [ -x "$(dirname "$(readlink -f "$candidate")")/initdb" ]; then
    dirname "$(readlink -f "$candidate")"
    return
  fi
  candidate=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -n "$candidate" ] && [ -x "$candidate/pg_ctl" ]; then
    echo "$candidate"
  fi
}

install_postgres() {
  [ "$(id -u)" = 0 ] || die "PostgreSQL is not installed and this is not root: run 'sudo apt-get install -y postgresql'"
  echo "postgres.sh: installing PostgreSQL from Debian packages" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >&2
  apt-get install -y -qq postgresql openssl >/dev/null
}

# Runs a command as the cluster's owner: `postgres` when we are root, else ourselves.
as_owner() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

is_running() {
  [ -f "$DATA/PG_VERSION" ] && [ -n "${PGBIN:-}" ] && as_owner "$PGBIN/pg_ctl" -D "$DATA" status >/dev/null 2>&1
}

port_is_free() {
  ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

print_url() {
  [ -f "$DIR/port" ] && [ -f "$DIR/password" ] || die "no cluster in $DIR; run 'bash scripts/postgres.sh start'"
  echo "postgres://sagactl:$(cat "$DIR/password")@127.0.0.1:$(cat "$DIR/port")/sagactl_test?sslmode=disable"
}

start() {
  PGBIN=$(find_bin)
  if [ -z "$PGBIN" ]; then
    install_postgres
    PGBIN=$(find_bin)
    [ -n "$PGBIN" ] || die "PostgreSQL was installed but pg_ctl is not under /usr/lib/postgresql/*/bin"
  fi
  if is_running; then
    print_url
    return
  fi
  # A directory left by a crashed run: start afresh.
  rm -rf "$DIR"
  mkdir -p "$DIR"
  chmod 700 "$DIR"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || die "there is no 'postgres' user to own the cluster (install the postgresql package)"
    chown postgres: "$DIR"
  fi

  local port=$FIRST_PORT
  while ! port_is_free "$port"; do
    port=$((port + 1))
    [ "$port" -lt $((FIRST_PORT + 50)) ] || die "no free port in $FIRST_PORT-$((FIRST_PORT + 49)) on 127.0.0.1"
  done

  local password
  password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  as_owner bash -c "umask 077; printf '%s\n' '$password' > '$DIR/superuser-password'"
  as_owner "$PGBIN/initdb" -D "$DATA" -U postgres -E UTF8 --locale=C.UTF-8 \
    --auth-local=trust --auth-host=scram-sha-256 --pwfile="$DIR/superuser-password" >"$DIR/initdb.log" 2>&1 \
    || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }

  as_owner openssl req -x509 -newkey rsa:2048 -nodes -days 7 -subj "/CN=sagactl-test" \
    -keyout "$DIR/server.key" -out "$DIR/server.crt" >"$DIR/openssl.log" 2>&1 \
    || { cat "$DIR/openssl.log" >&2; die "openssl could not make the test certificate"; }

  as_owner "$PGBIN/pg_ctl" -D "$DATA" -l "$DIR/server.log" -w -t 60 start -o \
    "-c listen_addresses=127.0.0.1 -c port=$port -k $DIR -c max_connections=300 -c ssl=on \
     -c ssl_cert_file=$DIR/server.crt -c ssl_key_file=$DIR/server.key" >/dev/null \
    || { tail -n 20 "$DIR/server.log" >&2; die "the server did not start"; }

  local role_password
  role_password=$(od -An -N12 -tx1 /dev/urandom | tr -d ' \n')
  as_owner "$PGBIN/psql" -X -q -v ON_ERROR_STOP=1 -h "$DIR" -p "$port" -U postgres -d postgres \
    -c "CREATE ROLE sagactl LOGIN CREATEDB PASSWORD '$role_password'" \
    -c "CREATE DATABASE sagactl_test OWNER sagactl" >/dev/null

  printf '%s\n' "$port" >"$DIR/port"
  (umask 077; printf '%s\n' "$role_password" >"$DIR/password")
  print_url
}

stop() {
  PGBIN=$(find_bin)
  if is_running; then
    as_owner "$PGBIN/pg_ctl" -D "$DATA" -m fast -w stop >/dev/null
  fi
  rm -rf "$DIR"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  url)
    PGBIN=$(find_bin)
    is_running || die "no running cluster in $DIR; run 'bash scripts/postgres.sh start'"
    print_url
    ;;
  *) echo "usage: $0 start|stop|url" >&2; exit 2 ;;
esac
