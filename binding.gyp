{
  "targets": [
    {
      "target_name": "walk",
      "sources": ["native/walk.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    },
    {
      "target_name": "read_ahead",
      "sources": ["native/read-ahead.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-pthread"],
      "ldflags": ["-pthread"]
    }
  ]
}
