#!/bin/sh
# The replica's start in docker-compose.yml: the first time, a base backup of the primary (which
# also writes standby.signal and primary_conninfo: pg_basebackup -R), then PostgreSQL as a hot
# standby streaming from it. Runs as root in the official image, PostgreSQL as postgres.
set -e
if [ ! -s "$PGDATA/PG_VERSION" ]; then
  until pg_isready -h db -U "$POSTGRES_USER" -d "$POSTGRES_DB" >/dev/null 2>&1; do sleep 1; done
  mkdir -p "$PGDATA"
  chown postgres "$PGDATA"
  chmod 700 "$PGDATA"
  su-exec postgres env PGPASSWORD="$POSTGRES_PASSWORD" \
    pg_basebackup -h db -U "$POSTGRES_USER" -D "$PGDATA" -R -X stream --checkpoint=fast
fi
exec su-exec postgres postgres -c hot_standby=on
