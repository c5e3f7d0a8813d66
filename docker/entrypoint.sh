#!/bin/sh
# The image's entrypoint. A mode (or nothing) starts the bot; anything else is run as a command:
#   docker run IMAGE                          the Slack app and a worker in one process (all)
#   docker run IMAGE app | worker             one role only
#   docker run IMAGE rapid-rollback doctor    the break-glass CLI (or any command: sh, helm version, …)
# The bot runs with V8's young generation capped at 4 MiB per semi-space (as `npm start` does): idle, it holds
# about 20 MiB less (docs/benchmarks.md, row 6); the bot is mostly waiting on APIs, so the extra scavenges cost
# next to nothing.
set -e
case "${1:-all}" in
  all | app | worker) exec node --max-semi-space-size=4 /app/dist/main.js "$@" ;;
  *) exec "$@" ;;
esac
