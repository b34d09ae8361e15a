# Sourced by scripts/test and scripts/bench: start_pg starts a throw-away
# PostgreSQL 15 cluster on 127.0.0.1 and a free port, prints its URL, and
# stop_pg stops and removes it. As root the cluster runs as postgres.
PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}

have_postgis() { [ -x "$PGBIN/initdb" ] && [ -f /usr/share/postgresql/15/extension/postgis.control ]; }

start_pg() {
  pgdir=$(mktemp -d /tmp/onemap-pg.XXXXXX)
  local port
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  as_pg=()
  if [ "$(id -u)" = 0 ]; then chown postgres "$pgdir"; as_pg=(runuser -u postgres --); fi
  "${as_pg[@]}" "$PGBIN/initdb" -D "$pgdir/data" -U onemap --auth=trust -E UTF8 >/dev/null
  # Durability settings off: the cluster lives for one run.
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -l "$pgdir/log" -w \
    -o "-c listen_addresses=127.0.0.1 -p $port -k $pgdir -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" start >/dev/null
  PG_URL="postgres://onemap@127.0.0.1:$port/postgres?sslmode=disable"
}

stop_pg() {
  [ -n "${pgdir:-}" ] || return 0
  "${as_pg[@]}" "$PGBIN/pg_ctl" -D "$pgdir/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$pgdir"
}
