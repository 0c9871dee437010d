# Sourced by scripts/test and bench/run: start a throw-away PostgreSQL server for this run
# (installing Debian's package when absent) and export PACTE_PG_URL. Stopped on exit.
pg_start() {
  if ! ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
      echo "→ Installation de PostgreSQL (paquet Debian)"
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    else
      echo "PostgreSQL est absent : apt-get install postgresql" >&2; return 1
    fi
  fi
  PGBIN="$(dirname "$(ls /usr/lib/postgresql/*/bin/initdb | sort -V | tail -n1)")"
  PGDIR="$(mktemp -d /tmp/pacte-pg.XXXXXX)"
  PGPORT="${PACTE_TEST_PGPORT:-$(( 55432 + RANDOM % 1000 ))}"
  [ "$(id -u)" = 0 ] && chown postgres "$PGDIR"
  trap pg_stop EXIT
  echo "→ PostgreSQL $("$PGBIN/postgres" --version | awk '{print $3}') temporaire sur 127.0.0.1:$PGPORT"
  _as_pg "$PGBIN/initdb" -D "$PGDIR/data" -U pacte --auth=trust -E UTF8 --locale=C.UTF-8 >/dev/null
  _as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -l "$PGDIR/log" -w \
    -o "-p $PGPORT -k $PGDIR -c listen_addresses=127.0.0.1 -c max_connections=200 ${PACTE_PG_OPTIONS:-}" start >/dev/null
  "$PGBIN/createdb" -h 127.0.0.1 -p "$PGPORT" -U pacte pacte
  export PACTE_PG_URL="postgresql://pacte@127.0.0.1:$PGPORT/pacte"
}
_as_pg() { if [ "$(id -u)" = 0 ]; then (cd / && runuser -u postgres -- "$@"); else "$@"; fi; }
pg_stop() { _as_pg "$PGBIN/pg_ctl" -D "$PGDIR/data" -m immediate stop >/dev/null 2>&1 || true; rm -rf "$PGDIR"; }
