{
  "targets": [
    {
      "target_name": "tsunagi_darknet",
      "sources": ["darknet_fast.c"],
      "cflags": ["-O2", "-Wall", "-Wextra", "-fno-strict-aliasing", "-ffp-contract=off"],
      "defines": ["NAPI_VERSION=8"]
    }
  ]
}
