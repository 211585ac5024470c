#!/bin/sh
# Run once by the official image when it creates the primary's database (docker-entrypoint-initdb.d):
# lets the replica connect for streaming replication, with the same password as the API.
set -e
echo "host replication all all scram-sha-256" >> "$PGDATA/pg_hba.conf"
