#!/bin/sh
# Upper-cases the `message` produced by the previous phase.
event=$(cat)
message=$(printf '%s' "$event" | sed -n 's/.*"message"[[:space:]]*:[[:space:]]*"\([^"]*\)".*/\1/p')
echo "shouting" >&2
printf '{"message": "%s"}\n' "$(printf '%s' "$message" | tr '[:lower:]' '[:upper:]')"
