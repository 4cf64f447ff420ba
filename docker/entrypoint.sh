#!/bin/sh
# Starts whatever command the container was given (by default `mockserver
# serve`), making sure the admin API is never left open: without
# MOCKSERVER_ADMIN_TOKEN in the environment, a random token is made for this
# run and printed once, so `docker run` works with no setup and the token is
# still only known to whoever can read the container's log.
set -eu

if [ -z "${MOCKSERVER_ADMIN_TOKEN:-}" ]; then
    MOCKSERVER_ADMIN_TOKEN="$(python -c 'import secrets; print(secrets.token_urlsafe(24))')"
    export MOCKSERVER_ADMIN_TOKEN
    echo "mockserver: MOCKSERVER_ADMIN_TOKEN was not set; the admin API token for this run is $MOCKSERVER_ADMIN_TOKEN" >&2
fi

# exec, so the server is PID 1 and receives docker stop's SIGTERM itself.
exec "$@"
