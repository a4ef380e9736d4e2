#!/bin/sh
# diskimage-ts: removes the image writer's private files should the build process die without
# cleaning up (SIGKILL). src/pipeline/writer-process.ts starts it with the files as arguments
# and a pipe only the build holds as stdin; it writes "done" there once the files are
# published or removed. An end of stdin without "done" means the build died.
#
# usage: writer-watchdog.sh FILE...   (each FILE, and FILE.* beside it, is removed)

IFS= read -r word || word=
[ "$word" = "done" ] && exit 0
for f; do rm -f -- "$f" "$f".*; done
