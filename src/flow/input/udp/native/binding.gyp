{
  "targets": [
    {
      "target_name": "tsunagi_udp",
      "sources": ["udp_recvmmsg.cc"],
      "cflags_cc": ["-O2", "-Wall", "-Wextra", "-fno-exceptions"],
      "defines": ["NAPI_VERSION=8"],
      "conditions": [["OS!='linux'", {"type": "none", "sources": []}]]
    }
  ]
}
