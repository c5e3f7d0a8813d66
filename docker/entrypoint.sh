#!/bin/sh
# The image's entrypoint. A mode (or nothing) starts the bot; anything else is run as a command:
#   docker run IMAGE                          the Slack app and a worker in one process (all)
#   docker run IMAGE app | worker             one role only
#   docker run IMAGE rapid-rollback doctor    the break-glass CLI (or any command: sh, helm version, …)
set -e
case "${1:-all}" in
  all | app | worker) exec node /app/dist/main.js "$@" ;;
  *) exec "$@" ;;
esac
