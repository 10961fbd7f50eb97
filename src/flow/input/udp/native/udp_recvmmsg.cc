// tsunagi UDP receiver: one socket polled on node's libuv loop; each readiness drains the
// socket with recvmmsg(2) into one preallocated buffer and makes ONE JS callback per batch of
// up to `slots` datagrams (instead of node dgram's one callback and one Buffer per datagram).
#include <node_api.h>
#include <uv.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

namespace {

// Bounds the work done per readiness so one busy socket cannot starve the loop's timers.
const int kMaxRoundsPerWake = 16;

struct Receiver {
  napi_env env = nullptr;
  napi_ref self = nullptr;        // the JS wrapper object (weak while closed)
  napi_ref on_batch = nullptr;    // function(count)
  napi_ref on_error = nullptr;    // function(errno, syscall)
  napi_ref arrays[5] = {};        // keeps the shared typed arrays alive
  napi_async_context async = nullptr;
  uv_poll_t* poll = nullptr;
  // Coalescing: after a read, the socket is read again by this timer `coalesce_ms` later instead
  // of at the next readiness, so datagrams that trickle in are taken in one batch.
  uv_timer_t* timer = nullptr;
  int coalesce_ms = 0;
  int delay_ms = 0;             // current delay, adapted to the arrival rate (<= coalesce_ms)
  size_t last_bytes = 0;        // estimated kernel memory the last drain took off the socket
  size_t rcvbuf = 0;            // SO_RCVBUF as granted (the kernel's own accounting limit)
  bool polling = false;
  int open_handles = 0;
  int fd = -1;
  bool closing = false;
  bool in_callback = false;
  unsigned slots = 0;
  size_t slot_size = 0;
  uint8_t* data = nullptr;       // slots * slot_size bytes
  int32_t* lengths = nullptr;    // per datagram: bytes, or -bytes when truncated
  uint8_t* addresses = nullptr;  // per datagram: 16 bytes (IPv4 in the first 4)
  uint16_t* ports = nullptr;
  uint8_t* families = nullptr;   // 4 or 6
  struct mmsghdr* msgs = nullptr;
  struct iovec* iovs = nullptr;
  struct sockaddr_storage* names = nullptr;
};

#define CHECK_NAPI(env, call)                                   \
  do {                                                          \
    if ((call) != napi_ok) {                                    \
      napi_throw_error((env), nullptr, "tsunagi_udp: " #call);  \
      return nullptr;                                           \
    }                                                           \
  } while (0)

napi_value ThrowErrno(napi_env env, const char* what, int err) {
  char message[256];
  snprintf(message, sizeof(message), "%s: %s", what, strerror(err));
  napi_value msg, error, code;
  napi_create_string_utf8(env, message, NAPI_AUTO_LENGTH, &msg);
  napi_create_error(env, nullptr, msg, &error);
  napi_create_int32(env, err, &code);
  napi_set_named_property(env, error, "errno", code);
  napi_throw(env, error);
  return nullptr;
}

void FreeReceiver(Receiver* r) {
  free(r->msgs);
  free(r->iovs);
  free(r->names);
  delete r;
}

void DropRefs(Receiver* r) {
  napi_env env = r->env;
  if (r->on_batch) napi_delete_reference(env, r->on_batch);
  if (r->on_error) napi_delete_reference(env, r->on_error);
  for (napi_ref& ref : r->arrays)
    if (ref) napi_delete_reference(env, ref);
  if (r->async) napi_async_destroy(env, r->async);
  r->on_batch = r->on_error = nullptr;
  r->async = nullptr;
  for (napi_ref& ref : r->arrays) ref = nullptr;
}

void OnHandleClosed(uv_handle_t* handle) {
  Receiver* r = static_cast<Receiver*>(handle->data);
  bool is_poll = handle->type == UV_POLL;
  if (is_poll)
    delete reinterpret_cast<uv_poll_t*>(handle);
  else
    delete reinterpret_cast<uv_timer_t*>(handle);
  if (r) {
    if (is_poll)
      r->poll = nullptr;
    else
      r->timer = nullptr;
    // Once both handles are gone the wrapper may be collected; its finalizer frees the Receiver.
    if (--r->open_handles == 0 && r->self) napi_reference_unref(r->env, r->self, nullptr);
  }
}

void CloseReceiver(Receiver* r) {
  if (r->closing) return;
  r->closing = true;
  if (r->poll) {
    uv_poll_stop(r->poll);
    uv_close(reinterpret_cast<uv_handle_t*>(r->poll), OnHandleClosed);
  }
  if (r->timer) {
    uv_timer_stop(r->timer);
    uv_close(reinterpret_cast<uv_handle_t*>(r->timer), OnHandleClosed);
  }
  if (r->fd >= 0) {
    close(r->fd);
    r->fd = -1;
  }
}

void CallError(Receiver* r, int err, const char* syscall) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return;
  napi_value fn, recv, args[2], result;
  if (r->on_error && napi_get_reference_value(env, r->on_error, &fn) == napi_ok && fn) {
    napi_get_global(env, &recv);  // napi_make_callback needs an object receiver
    napi_create_int32(env, err, &args[0]);
    napi_create_string_utf8(env, syscall, NAPI_AUTO_LENGTH, &args[1]);
    if (napi_make_callback(env, r->async, recv, fn, 2, args, &result) == napi_pending_exception) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
    }
  }
  napi_close_handle_scope(env, scope);
}

// Returns false when the JS callback threw or closed the receiver.
bool CallBatch(Receiver* r, int count) {
  napi_env env = r->env;
  napi_handle_scope scope;
  if (napi_open_handle_scope(env, &scope) != napi_ok) return false;
  bool ok = true;
  napi_value fn, recv, arg, result;
  if (napi_get_reference_value(env, r->on_batch, &fn) == napi_ok && fn) {
    napi_get_global(env, &recv);  // napi_make_callback needs an object receiver
    napi_create_int32(env, count, &arg);
    r->in_callback = true;
    napi_status status = napi_make_callback(env, r->async, recv, fn, 1, &arg, &result);
    r->in_callback = false;
    if (status == napi_pending_exception) {
      napi_value exception;
      napi_get_and_clear_last_exception(env, &exception);
      napi_fatal_exception(env, exception);
      ok = false;
    }
  }
  napi_close_handle_scope(env, scope);
  if (r->closing) {
    DropRefs(r);
    return false;
  }
  return ok;
}

// Reads until the socket is empty (or kMaxRoundsPerWake batches); returns datagrams read, or
// -1 when the socket still had more, or when the receiver closed or the callback threw.
int Drain(Receiver* r) {
  int total = 0;
  r->last_bytes = 0;
  for (int round = 0; round < kMaxRoundsPerWake; round++) {
    for (unsigned i = 0; i < r->slots; i++) {
      r->msgs[i].msg_hdr.msg_namelen = sizeof(struct sockaddr_storage);
      r->msgs[i].msg_hdr.msg_flags = 0;
    }
    int n = recvmmsg(r->fd, r->msgs, r->slots, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) return total;
      // ICMP errors and the like: reported, the socket stays open (as node's dgram does).
      CallError(r, errno, "recvmmsg");
      return r->closing ? -1 : total;
    }
    if (n == 0) return total;
    for (int i = 0; i < n; i++) {
      const struct msghdr& h = r->msgs[i].msg_hdr;
      int32_t len = static_cast<int32_t>(r->msgs[i].msg_len);
      r->lengths[i] = (h.msg_flags & MSG_TRUNC) ? -len : len;
      uint8_t* address = r->addresses + 16 * i;
      const struct sockaddr_storage* name = &r->names[i];
      if (name->ss_family == AF_INET) {
        const struct sockaddr_in* sin = reinterpret_cast<const struct sockaddr_in*>(name);
        memcpy(address, &sin->sin_addr, 4);
        r->ports[i] = ntohs(sin->sin_port);
        r->families[i] = 4;
      } else if (name->ss_family == AF_INET6) {
        const struct sockaddr_in6* sin6 = reinterpret_cast<const struct sockaddr_in6*>(name);
        const uint8_t* a = sin6->sin6_addr.s6_addr;
        static const uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
        if (memcmp(a, kMapped, 12) == 0) {
          // A dual-stack socket reports IPv4 exporters as ::ffff:a.b.c.d: report them as IPv4.
          memcpy(address, a + 12, 4);
          r->families[i] = 4;
        } else {
          memcpy(address, a, 16);
          r->families[i] = 6;
        }
        r->ports[i] = ntohs(sin6->sin6_port);
      } else {
        memset(address, 0, 16);
        r->ports[i] = 0;
        r->families[i] = 0;
      }
    }
    total += n;
    // The kernel charges each queued datagram its buffer's true size: length plus up to ~2 KiB.
    for (int i = 0; i < n; i++) r->last_bytes += static_cast<size_t>(r->msgs[i].msg_len) + 2048;
    if (!CallBatch(r, n)) return -1;
    if (static_cast<unsigned>(n) < r->slots) return total;  // drained
  }
  return -1;
}

void OnReadable(uv_poll_t* handle, int status, int events);

// The next read's delay: what arrives during one delay must stay well inside the receive
// buffer, so the delay halves when the last read took more than an eighth of it and grows
// back (up to coalesce_ms) while reads stay small.
int NextDelay(Receiver* r, int got) {
  if (got < 0) return 0;  // more was waiting: read again at once
  if (r->last_bytes * 8 > r->rcvbuf)
    r->delay_ms /= 2;
  else if (r->last_bytes * 32 < r->rcvbuf && r->delay_ms < r->coalesce_ms)
    r->delay_ms++;
  return r->delay_ms;
}

void OnTimer(uv_timer_t* handle) {
  Receiver* r = static_cast<Receiver*>(handle->data);
  if (!r || r->closing) return;
  int got = Drain(r);
  if (r->closing) return;
  if (got != 0) {
    // Traffic is flowing: read again after the coalescing delay (at once when more was left).
    uv_timer_start(r->timer, OnTimer, NextDelay(r, got), 0);
  } else if (!r->polling) {
    // Idle: wait for the next datagram without delay.
    if (uv_poll_start(r->poll, UV_READABLE, OnReadable) == 0) r->polling = true;
  }
}

void OnReadable(uv_poll_t* handle, int status, int events) {
  Receiver* r = static_cast<Receiver*>(handle->data);
  if (!r || r->closing) return;
  if (status < 0) {
    CallError(r, -status, "poll");
    return;
  }
  if (!(events & UV_READABLE)) return;
  int got = Drain(r);
  if (r->closing || r->coalesce_ms <= 0 || !r->timer) return;
  if (got != 0) {
    uv_poll_stop(r->poll);
    r->polling = false;
    uv_timer_start(r->timer, OnTimer, NextDelay(r, got), 0);
  }
}

void Finalize(napi_env env, void* data, void* hint) {
  (void)env;
  (void)hint;
  Receiver* r = static_cast<Receiver*>(data);
  if (r->fd >= 0) close(r->fd);
  r->fd = -1;
  // Still open at collection (only at env teardown): detach; the close callbacks free the handles.
  if (r->poll) {
    r->poll->data = nullptr;
    uv_poll_stop(r->poll);
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(r->poll)))
      uv_close(reinterpret_cast<uv_handle_t*>(r->poll), OnHandleClosed);
    r->poll = nullptr;
  }
  if (r->timer) {
    r->timer->data = nullptr;
    uv_timer_stop(r->timer);
    if (!uv_is_closing(reinterpret_cast<uv_handle_t*>(r->timer)))
      uv_close(reinterpret_cast<uv_handle_t*>(r->timer), OnHandleClosed);
    r->timer = nullptr;
  }
  DropRefs(r);
  if (r->self) napi_delete_reference(env, r->self);
  FreeReceiver(r);
}

Receiver* Unwrap(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv) {
  napi_value self;
  if (napi_get_cb_info(env, info, argc, argv, &self, nullptr) != napi_ok) return nullptr;
  void* data = nullptr;
  if (napi_unwrap(env, self, &data) != napi_ok || !data) {
    napi_throw_error(env, nullptr, "tsunagi_udp: not a receiver");
    return nullptr;
  }
  return static_cast<Receiver*>(data);
}

napi_value Close(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Receiver* r = Unwrap(env, info, &argc, nullptr);
  if (!r) return nullptr;
  CloseReceiver(r);
  // Inside onBatch the async context is still in use: CallBatch drops the refs on return.
  if (!r->in_callback) DropRefs(r);
  return nullptr;
}

napi_value SockOptInt(napi_env env, napi_callback_info info, int level, int name) {
  size_t argc = 0;
  Receiver* r = Unwrap(env, info, &argc, nullptr);
  if (!r) return nullptr;
  if (r->fd < 0) return ThrowErrno(env, "getsockopt", EBADF);
  int value = 0;
  socklen_t len = sizeof(value);
  if (getsockopt(r->fd, level, name, &value, &len) != 0) return ThrowErrno(env, "getsockopt", errno);
  napi_value out;
  napi_create_int32(env, value, &out);
  return out;
}

napi_value RecvBufferSize(napi_env env, napi_callback_info info) {
  return SockOptInt(env, info, SOL_SOCKET, SO_RCVBUF);
}

napi_value LocalPort(napi_env env, napi_callback_info info) {
  size_t argc = 0;
  Receiver* r = Unwrap(env, info, &argc, nullptr);
  if (!r) return nullptr;
  if (r->fd < 0) return ThrowErrno(env, "getsockname", EBADF);
  struct sockaddr_storage name;
  socklen_t len = sizeof(name);
  if (getsockname(r->fd, reinterpret_cast<struct sockaddr*>(&name), &len) != 0)
    return ThrowErrno(env, "getsockname", errno);
  int port = name.ss_family == AF_INET6 ? ntohs(reinterpret_cast<struct sockaddr_in6*>(&name)->sin6_port)
                                        : ntohs(reinterpret_cast<struct sockaddr_in*>(&name)->sin_port);
  napi_value out;
  napi_create_int32(env, port, &out);
  return out;
}

bool TypedArrayData(napi_env env, napi_value value, napi_typedarray_type want, size_t min_length, void** data) {
  bool is = false;
  if (napi_is_typedarray(env, value, &is) != napi_ok || !is) return false;
  napi_typedarray_type type;
  size_t length;
  napi_value buffer;
  size_t offset;
  if (napi_get_typedarray_info(env, value, &type, &length, data, &buffer, &offset) != napi_ok) return false;
  return type == want && length >= min_length;
}

// open(host, port, family, receiveBufferBytes, slotSize, data: Uint8Array, lengths: Int32Array,
//      addresses: Uint8Array, ports: Uint16Array, families: Uint8Array, onBatch, onError,
//      coalesceMs)
// -> { close(), localPort(), recvBufferSize() }; throws an Error with .errno on failure.
napi_value Open(napi_env env, napi_callback_info info) {
  size_t argc = 13;
  napi_value argv[13];
  CHECK_NAPI(env, napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr));
  int32_t coalesce_ms = 0;
  if (argc < 13 || napi_get_value_int32(env, argv[12], &coalesce_ms) != napi_ok || coalesce_ms < 0 ||
      coalesce_ms > 1000) {
    napi_throw_type_error(env, nullptr, "tsunagi_udp.open: 13 arguments expected, coalesceMs 0..1000");
    return nullptr;
  }
  char host[64];
  size_t host_len = 0;
  if (napi_get_value_string_utf8(env, argv[0], host, sizeof(host), &host_len) != napi_ok) {
    napi_throw_type_error(env, nullptr, "tsunagi_udp.open: host must be a string");
    return nullptr;
  }
  int32_t port = 0, family = 0, rcvbuf = 0, slot_size = 0;
  if (napi_get_value_int32(env, argv[1], &port) != napi_ok || port < 0 || port > 65535 ||
      napi_get_value_int32(env, argv[2], &family) != napi_ok || (family != 4 && family != 6) ||
      napi_get_value_int32(env, argv[3], &rcvbuf) != napi_ok || rcvbuf < 0 ||
      napi_get_value_int32(env, argv[4], &slot_size) != napi_ok || slot_size < 1) {
    napi_throw_type_error(env, nullptr, "tsunagi_udp.open: bad port, family, buffer or slot size");
    return nullptr;
  }
  void *lengths, *addresses, *ports, *families, *data;
  size_t data_length = 0;
  {
    bool is = false;
    napi_typedarray_type type;
    napi_value ab;
    size_t offset;
    if (napi_is_typedarray(env, argv[5], &is) != napi_ok || !is ||
        napi_get_typedarray_info(env, argv[5], &type, &data_length, &data, &ab, &offset) != napi_ok ||
        type != napi_uint8_array) {
      napi_throw_type_error(env, nullptr, "tsunagi_udp.open: data must be a Uint8Array");
      return nullptr;
    }
  }
  unsigned slots = static_cast<unsigned>(data_length / static_cast<size_t>(slot_size));
  if (slots < 1 || slots > 1024 || !TypedArrayData(env, argv[6], napi_int32_array, slots, &lengths) ||
      !TypedArrayData(env, argv[7], napi_uint8_array, slots * 16, &addresses) ||
      !TypedArrayData(env, argv[8], napi_uint16_array, slots, &ports) ||
      !TypedArrayData(env, argv[9], napi_uint8_array, slots, &families)) {
    napi_throw_type_error(env, nullptr, "tsunagi_udp.open: typed arrays too small for the slot count");
    return nullptr;
  }
  napi_valuetype t1, t2;
  napi_typeof(env, argv[10], &t1);
  napi_typeof(env, argv[11], &t2);
  if (t1 != napi_function || t2 != napi_function) {
    napi_throw_type_error(env, nullptr, "tsunagi_udp.open: onBatch and onError must be functions");
    return nullptr;
  }

  struct sockaddr_storage bind_address;
  memset(&bind_address, 0, sizeof(bind_address));
  socklen_t bind_length;
  if (family == 4) {
    struct sockaddr_in* sin = reinterpret_cast<struct sockaddr_in*>(&bind_address);
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) return ThrowErrno(env, "inet_pton", EINVAL);
    bind_length = sizeof(*sin);
  } else {
    struct sockaddr_in6* sin6 = reinterpret_cast<struct sockaddr_in6*>(&bind_address);
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port));
    if (inet_pton(AF_INET6, host, &sin6->sin6_addr) != 1) return ThrowErrno(env, "inet_pton", EINVAL);
    bind_length = sizeof(*sin6);
  }

  int fd = socket(family == 4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) return ThrowErrno(env, "socket", errno);
  if (family == 6) {
    int off = 0;  // dual stack, as node's udp6 sockets
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
  }
  if (rcvbuf > 0) {
    int current = 0;
    socklen_t len = sizeof(current);
    setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &current, &len);
    // The kernel reports double the asked size; below that, rmem_max capped it: root may force it.
    if (current < rcvbuf) setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf));
  }
  if (bind(fd, reinterpret_cast<struct sockaddr*>(&bind_address), bind_length) != 0) {
    int err = errno;
    close(fd);
    return ThrowErrno(env, "bind", err);
  }

  Receiver* r = new Receiver();
  r->env = env;
  r->fd = fd;
  r->coalesce_ms = coalesce_ms;
  r->delay_ms = coalesce_ms;
  {
    int granted = 0;
    socklen_t len = sizeof(granted);
    getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &granted, &len);
    r->rcvbuf = granted > 0 ? static_cast<size_t>(granted) : 212992;
  }
  r->slots = slots;
  r->slot_size = static_cast<size_t>(slot_size);
  r->data = static_cast<uint8_t*>(data);
  r->lengths = static_cast<int32_t*>(lengths);
  r->addresses = static_cast<uint8_t*>(addresses);
  r->ports = static_cast<uint16_t*>(ports);
  r->families = static_cast<uint8_t*>(families);
  r->msgs = static_cast<struct mmsghdr*>(calloc(slots, sizeof(struct mmsghdr)));
  r->iovs = static_cast<struct iovec*>(calloc(slots, sizeof(struct iovec)));
  r->names = static_cast<struct sockaddr_storage*>(calloc(slots, sizeof(struct sockaddr_storage)));
  if (!r->msgs || !r->iovs || !r->names) {
    close(fd);
    FreeReceiver(r);
    return ThrowErrno(env, "calloc", ENOMEM);
  }
  for (unsigned i = 0; i < slots; i++) {
    r->iovs[i].iov_base = r->data + i * r->slot_size;
    r->iovs[i].iov_len = r->slot_size;
    r->msgs[i].msg_hdr.msg_iov = &r->iovs[i];
    r->msgs[i].msg_hdr.msg_iovlen = 1;
    r->msgs[i].msg_hdr.msg_name = &r->names[i];
  }

  napi_value object, resource_name;
  napi_create_object(env, &object);
  for (int i = 0; i < 5; i++) napi_create_reference(env, argv[5 + i], 1, &r->arrays[i]);
  napi_create_reference(env, argv[10], 1, &r->on_batch);
  napi_create_reference(env, argv[11], 1, &r->on_error);
  napi_create_string_utf8(env, "tsunagi:udp", NAPI_AUTO_LENGTH, &resource_name);
  napi_async_init(env, object, resource_name, &r->async);

  napi_property_descriptor methods[] = {
      {"close", nullptr, Close, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"localPort", nullptr, LocalPort, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"recvBufferSize", nullptr, RecvBufferSize, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, object, 3, methods);
  if (napi_wrap(env, object, r, Finalize, nullptr, &r->self) != napi_ok) {
    close(fd);
    DropRefs(r);
    FreeReceiver(r);
    napi_throw_error(env, nullptr, "tsunagi_udp: napi_wrap failed");
    return nullptr;
  }
  // Strong while the socket is open, so the receiver is not collected under the loop.
  napi_reference_ref(env, r->self, nullptr);

  uv_loop_t* loop = nullptr;
  napi_get_uv_event_loop(env, &loop);
  r->poll = new uv_poll_t;
  int err = uv_poll_init(loop, r->poll, fd);
  if (err != 0) {
    delete r->poll;
    r->poll = nullptr;
  } else {
    r->poll->data = r;
    r->open_handles++;
    r->timer = new uv_timer_t;
    uv_timer_init(loop, r->timer);  // cannot fail
    r->timer->data = r;
    r->open_handles++;
    err = uv_poll_start(r->poll, UV_READABLE, OnReadable);
    if (err == 0) r->polling = true;
  }
  if (err != 0) {
    if (r->open_handles == 0) napi_reference_unref(env, r->self, nullptr);
    CloseReceiver(r);
    DropRefs(r);
    return ThrowErrno(env, "uv_poll_start", -err);
  }
  return object;
}

napi_value Init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "open", NAPI_AUTO_LENGTH, Open, nullptr, &fn);
  napi_set_named_property(env, exports, "open", fn);
  return exports;
}

}  // namespace

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)
