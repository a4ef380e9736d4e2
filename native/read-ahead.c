/*
 * The read-ahead of src/tree/read-ahead.ts on a thread of our own, behind the same interface as
 * its TypeScript twin there (a worker thread), which is used whenever this addon is not built.
 *
 * start(paths, sizes, buffers) starts a POSIX thread that reads the files in order into the
 * caller's ArrayBuffers (all of one size): small files packed together, a file at least one
 * buffer long starting a buffer of its own, exactly as the twin does. A buffer is handed over
 * when it is full (or the files end); the thread waits while every buffer is handed over.
 * next(handle, give, timeoutMs) gives buffer `give` back (-1: none) and waits for the next full
 * one: a Float64Array [buffer index, bytes, then file, offset, length, at per piece], or null
 * when the files are done, or undefined after timeoutMs with nothing new (the thread is stuck).
 * stop(handle) ends the thread and waits for it, so no read is left writing into a buffer.
 * A file that cannot be opened or read, or is shorter than its size, simply has pieces missing;
 * the consumer reads those bytes itself and reports the error as it would without read-ahead.
 *
 * It takes less CPU than the twin's worker thread (its start-up, Node's fs bindings per call,
 * and the messages), which matters while the build's writer waits for CPU: docs/benchmarks.md.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <node_api.h>
#include <pthread.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

enum { FREE, FILLING, READY, TAKEN };

typedef struct {
  uint8_t *mem;
  double *pieces; /* file, offset, length, at */
  size_t count, cap, used;
  int state;
} Buf;

typedef struct {
  pthread_t thread;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  char **paths;
  double *sizes;
  size_t files;
  Buf *bufs;
  napi_ref *refs;
  size_t nbuf, size;
  size_t *queue, qhead, qlen; /* READY buffers, in the order they were filled */
  int stop, done, running;
} Ahead;

static int stopped(Ahead *a) { return __atomic_load_n(&a->stop, __ATOMIC_RELAXED); }

/* A FREE buffer made FILLING, or -1 once stopped; with the lock held. */
static long take_free(Ahead *a) {
  for (;;) {
    if (a->stop) return -1;
    for (size_t i = 0; i < a->nbuf; i++) {
      if (a->bufs[i].state == FREE) {
        a->bufs[i].state = FILLING;
        a->bufs[i].count = 0;
        a->bufs[i].used = 0;
        return (long)i;
      }
    }
    pthread_cond_wait(&a->cv, &a->mu);
  }
}

/* Queues buffer `cur` for the consumer; with the lock held (the caller wakes the waiters). */
static void enqueue(Ahead *a, long cur) {
  a->bufs[cur].state = READY;
  a->queue[(a->qhead + a->qlen) % a->nbuf] = (size_t)cur;
  a->qlen++;
}

/* Hands buffer `cur` over if it holds anything; returns the buffer to fill next (-1: stopped). */
static long post(Ahead *a, long cur) {
  if (a->bufs[cur].used == 0) return cur;
  pthread_mutex_lock(&a->mu);
  enqueue(a, cur);
  pthread_cond_broadcast(&a->cv);
  long next = take_free(a);
  pthread_mutex_unlock(&a->mu);
  return next;
}

static int add_piece(Buf *b, size_t file, double offset, size_t length) {
  if (b->count + 4 > b->cap) {
    size_t cap = b->cap ? b->cap * 2 : 256;
    double *p = realloc(b->pieces, cap * sizeof(double));
    if (!p) return 0;
    b->pieces = p;
    b->cap = cap;
  }
  b->pieces[b->count++] = (double)file;
  b->pieces[b->count++] = offset;
  b->pieces[b->count++] = (double)length;
  b->pieces[b->count++] = (double)b->used;
  return 1;
}

static void *run(void *arg) {
  Ahead *a = arg;
  pthread_mutex_lock(&a->mu);
  long cur = take_free(a);
  pthread_mutex_unlock(&a->mu);
  for (size_t i = 0; i < a->files && cur >= 0 && !stopped(a); i++) {
    double size = a->sizes[i];
    if (size >= (double)a->size && (cur = post(a, cur)) < 0) break;
    int fd = open(a->paths[i], O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0) continue;
    double off = 0;
    while (off < size && !stopped(a)) {
      Buf *b = &a->bufs[cur];
      if (b->used == a->size) {
        if ((cur = post(a, cur)) < 0) break;
        b = &a->bufs[cur];
      }
      size_t want = a->size - b->used;
      if ((double)want > size - off) want = (size_t)(size - off);
      ssize_t r = pread(fd, b->mem + b->used, want, (off_t)off);
      if (r < 0 && errno == EINTR) continue;
      if (r <= 0 || !add_piece(b, i, off, (size_t)r)) break;
      b->used += (size_t)r;
      off += (double)r;
    }
    close(fd);
  }
  pthread_mutex_lock(&a->mu);
  if (cur >= 0 && a->bufs[cur].used > 0 && !a->stop) {
    enqueue(a, cur);
  } else if (cur >= 0) {
    a->bufs[cur].state = FREE;
  }
  a->done = 1;
  pthread_cond_broadcast(&a->cv);
  pthread_mutex_unlock(&a->mu);
  return NULL;
}

/* Ends the thread, waits for it, and lets go of the buffers (the JS thread only). */
static void finish(napi_env env, Ahead *a) {
  if (a->running) {
    pthread_mutex_lock(&a->mu);
    a->stop = 1;
    pthread_cond_broadcast(&a->cv);
    pthread_mutex_unlock(&a->mu);
    pthread_join(a->thread, NULL);
    a->running = 0;
  }
  for (size_t i = 0; i < a->nbuf; i++) {
    if (a->refs && a->refs[i]) napi_delete_reference(env, a->refs[i]);
    if (a->refs) a->refs[i] = NULL;
    free(a->bufs[i].pieces);
    a->bufs[i].pieces = NULL;
  }
  if (a->paths) for (size_t i = 0; i < a->files; i++) free(a->paths[i]);
  free(a->paths);
  a->paths = NULL;
  free(a->sizes);
  a->sizes = NULL;
  a->files = 0;
}

static void destroy(napi_env env, void *data, void *hint) {
  (void)hint;
  Ahead *a = data;
  finish(env, a);
  pthread_mutex_destroy(&a->mu);
  pthread_cond_destroy(&a->cv);
  free(a->bufs);
  free(a->refs);
  free(a->queue);
  free(a);
}

static napi_value fail(napi_env env, const char *message) {
  napi_throw_error(env, NULL, message);
  return NULL;
}

static Ahead *handle_of(napi_env env, napi_value v) {
  void *p = NULL;
  if (napi_get_value_external(env, v, &p) != napi_ok) return NULL;
  return p;
}

/* start(paths: string[], sizes: number[], buffers: ArrayBuffer[]) -> handle */
static napi_value start(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  uint32_t files = 0, nsizes = 0, nbuf = 0;
  if (argc < 3 || napi_get_array_length(env, argv[0], &files) != napi_ok || napi_get_array_length(env, argv[1], &nsizes) != napi_ok ||
      napi_get_array_length(env, argv[2], &nbuf) != napi_ok || nsizes != files || nbuf < 2) {
    return fail(env, "start(paths, sizes, buffers): expected two arrays of the same length and at least two ArrayBuffers");
  }
  Ahead *a = calloc(1, sizeof *a);
  if (!a) return fail(env, "out of memory");
  pthread_mutex_init(&a->mu, NULL);
  pthread_cond_init(&a->cv, NULL);
  a->nbuf = nbuf;
  a->bufs = calloc(nbuf, sizeof *a->bufs);
  a->refs = calloc(nbuf, sizeof *a->refs);
  a->queue = calloc(nbuf, sizeof *a->queue);
  a->paths = calloc(files ? files : 1, sizeof *a->paths);
  a->sizes = calloc(files ? files : 1, sizeof *a->sizes);
  napi_value handle;
  if (napi_create_external(env, a, destroy, NULL, &handle) != napi_ok) {
    destroy(env, a, NULL);
    return fail(env, "cannot make the read-ahead handle");
  }
  if (!a->bufs || !a->refs || !a->queue || !a->paths || !a->sizes) return fail(env, "out of memory");
  for (uint32_t i = 0; i < nbuf; i++) {
    napi_value ab;
    void *data = NULL;
    size_t len = 0;
    bool is_ab = false;
    napi_get_element(env, argv[2], i, &ab);
    if (napi_is_arraybuffer(env, ab, &is_ab) != napi_ok || !is_ab || napi_get_arraybuffer_info(env, ab, &data, &len) != napi_ok ||
        len == 0 || (i > 0 && len != a->size)) {
      return fail(env, "start: the buffers must be ArrayBuffers, all of one size");
    }
    a->size = len;
    a->bufs[i].mem = data;
    napi_create_reference(env, ab, 1, &a->refs[i]);
  }
  for (uint32_t i = 0; i < files; i++) {
    napi_value v;
    size_t len = 0;
    napi_get_element(env, argv[0], i, &v);
    if (napi_get_value_string_utf8(env, v, NULL, 0, &len) != napi_ok) return fail(env, "start: paths must be strings");
    a->files = i + 1; /* so that finish frees what is made so far */
    if (!(a->paths[i] = malloc(len + 1))) return fail(env, "out of memory");
    napi_get_value_string_utf8(env, v, a->paths[i], len + 1, &len);
    napi_get_element(env, argv[1], i, &v);
    if (napi_get_value_double(env, v, &a->sizes[i]) != napi_ok) return fail(env, "start: sizes must be numbers");
  }
  a->files = files;
  if (pthread_create(&a->thread, NULL, run, a) != 0) return fail(env, "cannot start the read-ahead thread");
  a->running = 1;
  return handle;
}

/* next(handle, give: number, timeoutMs: number) -> Float64Array | null | undefined */
static napi_value next(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Ahead *a = argc == 3 ? handle_of(env, argv[0]) : NULL;
  double give = -1, timeout = 0;
  if (!a || napi_get_value_double(env, argv[1], &give) != napi_ok || napi_get_value_double(env, argv[2], &timeout) != napi_ok) {
    return fail(env, "next(handle, give, timeoutMs): expected a read-ahead handle and two numbers");
  }
  napi_value out;
  napi_get_undefined(env, &out);
  if (!a->running && a->qlen == 0) {
    napi_get_null(env, &out);
    return out;
  }
  long ms = (long)timeout;
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_sec += ms / 1000;
  until.tv_nsec += (ms % 1000) * 1000000L;
  if (until.tv_nsec >= 1000000000L) {
    until.tv_sec++;
    until.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock(&a->mu);
  if (give >= 0 && give < (double)a->nbuf && a->bufs[(size_t)give].state == TAKEN) {
    a->bufs[(size_t)give].state = FREE;
    pthread_cond_broadcast(&a->cv);
  }
  int timed_out = 0;
  while (a->qlen == 0 && !a->done && !timed_out) timed_out = pthread_cond_timedwait(&a->cv, &a->mu, &until) == ETIMEDOUT;
  if (a->qlen == 0) {
    pthread_mutex_unlock(&a->mu);
    if (!timed_out) napi_get_null(env, &out);
    return out;
  }
  size_t idx = a->queue[a->qhead];
  a->qhead = (a->qhead + 1) % a->nbuf;
  a->qlen--;
  Buf *b = &a->bufs[idx];
  b->state = TAKEN;
  void *data = NULL;
  napi_value ab;
  size_t n = 2 + b->count;
  if (napi_create_arraybuffer(env, n * sizeof(double), &data, &ab) == napi_ok) {
    double *d = data;
    d[0] = (double)idx;
    d[1] = (double)b->used;
    memcpy(d + 2, b->pieces, b->count * sizeof(double));
    napi_create_typedarray(env, napi_float64_array, n, ab, 0, &out);
  }
  pthread_mutex_unlock(&a->mu);
  return out;
}

/* stop(handle): ends the thread and waits for it; next() then returns null. */
static napi_value stop(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  Ahead *a = argc == 1 ? handle_of(env, argv[0]) : NULL;
  if (!a) return fail(env, "stop(handle): expected a read-ahead handle");
  finish(env, a);
  a->qlen = 0;
  return NULL;
}

static napi_value init(napi_env env, napi_value exports) {
  const char *names[] = {"start", "next", "stop"};
  napi_callback fns[] = {start, next, stop};
  for (int i = 0; i < 3; i++) {
    napi_value fn;
    napi_create_function(env, names[i], NAPI_AUTO_LENGTH, fns[i], NULL, &fn);
    napi_set_named_property(env, exports, names[i], fn);
  }
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
