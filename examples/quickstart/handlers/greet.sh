#!/bin/sh
# Greets the `name` of the event. Plain POSIX sh, so the quickstart needs
# nothing installed: the event is JSON on stdin, the result JSON on stdout,
# and whatever goes to stderr is kept in the run's log.
event=$(cat)
name=$(printf '%s' "$event" | sed -n 's/.*"name"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
[ -n "$name" ] || name=world
echo "greeting $name" >&2
printf '{"message": "%s, %s!"}\n' "${GREETING:-Hello}" "$name"
