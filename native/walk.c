/*
 * The directory walk of src/tree/dir-source.ts in C, behind the same interface as its
 * TypeScript twin there (dirTree), which is used whenever this addon is not built.
 *
 * walk(root, oneFileSystem, xattrs[, threads]) lstat's every entry below `root` (never
 * following a symlink), lists each directory and visits its entries sorted bytewise, depth
 * first (tree order), reads each symlink's target and, with `xattrs`, each entry's extended
 * attributes (llistxattr/lgetxattr). It returns:
 *   names:  Buffer, each entry's own name followed by a NUL (the root's is empty);
 *   stats:  Float64Array, WALK_FIELDS numbers per entry (the order of the F_ constants below);
 *   extra:  Array, by entry, for entries that have them: { target?: Buffer, xattrs?: [names,
 *           values], failed?: { op, errno, name? } }.
 * A failure never stops the walk: it is recorded on the entry (a directory that cannot be
 * listed has no children), so that the caller reports the first one it does not exclude,
 * with the message the TypeScript walk would give.
 *
 * The system calls run on `threads` threads (default 2: the caller's and one more), each
 * taking whole directories from a shared list: a directory's job lists it and looks at each
 * of its entries (lstat, xattrs, readlink), and adds the subdirectories to the list. The
 * answers are kept in C, by directory, and put in tree order at the end on the caller's
 * thread, so the result does not depend on which thread did what.
 * Its measurements, on one thread and two, against the TypeScript walk: docs/benchmarks.md.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <node_api.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <time.h>
#include <unistd.h>

enum {
  F_MODE, F_UID, F_GID, F_SIZE, F_NLINK, F_DEV, F_INO, F_RDEV_MAJOR, F_RDEV_MINOR,
  F_ATIME_SEC, F_ATIME_NSEC, F_MTIME_SEC, F_MTIME_NSEC, F_CTIME_SEC, F_CTIME_NSEC, F_DEPTH,
  WALK_FIELDS
};

/* What could not be done for an entry; a later failure replaces an earlier one. */
enum { OP_NONE, OP_LSTAT, OP_SCANDIR, OP_READLINK, OP_LISTXATTR, OP_GETXATTR };
static const char *const OP_NAMES[] = {"", "lstat", "scandir", "readlink", "listxattr", "getxattr"};

typedef struct Entry Entry;

/* One entry as the walk found it. */
struct Entry {
  char *name;
  struct stat st;
  int fail_op, fail_errno;
  char *fail_name;
  char *target; /* a symlink's, when read */
  size_t target_len;
  char *xnames; /* attribute names, each followed by a NUL */
  char **xvalues;
  size_t *xlens;
  size_t xcount;
  Entry *kids; /* a listed directory's entries, sorted */
  size_t nkids;
};

/* A directory waiting to be listed. */
typedef struct {
  Entry *dir;
  char *path;
  size_t len;
} Job;

typedef struct {
  pthread_mutex_t mu;
  pthread_cond_t cv;
  Job *jobs;
  size_t njobs, cap;
  size_t busy; /* jobs taken and not finished */
  int one_fs, xattrs, oom;
  dev_t root_dev;
} Walk;

static int grow(void **p, size_t *cap, size_t need, size_t unit) {
  if (need <= *cap) return 1;
  size_t n = *cap ? *cap : 1024;
  while (n < need) n *= 2;
  void *q = realloc(*p, n * unit);
  if (!q) return 0;
  *p = q;
  *cap = n;
  return 1;
}

static void fail(Entry *e, int op, int err, const char *name) {
  e->fail_op = op;
  e->fail_errno = err;
  free(e->fail_name);
  e->fail_name = name ? strdup(name) : NULL;
}

static void set_oom(Walk *w) { __atomic_store_n(&w->oom, 1, __ATOMIC_RELAXED); }

static void read_xattrs(Walk *w, Entry *e, const char *path) {
  ssize_t len = llistxattr(path, NULL, 0);
  if (len < 0) {
    if (errno != ENOTSUP && errno != ENODATA) fail(e, OP_LISTXATTR, errno, NULL);
    return;
  }
  if (len == 0) return;
  char *list = malloc((size_t)len);
  if (!list) { set_oom(w); return; }
  len = llistxattr(path, list, (size_t)len);
  if (len < 0) {
    if (errno != ENOTSUP && errno != ENODATA) fail(e, OP_LISTXATTR, errno, NULL);
    free(list);
    return;
  }
  size_t count = 0, names_len = 0;
  for (char *name = list; name < list + len; name += strlen(name) + 1) count++;
  e->xnames = malloc((size_t)len);
  e->xvalues = calloc(count ? count : 1, sizeof *e->xvalues);
  e->xlens = calloc(count ? count : 1, sizeof *e->xlens);
  if (!e->xnames || !e->xvalues || !e->xlens) { set_oom(w); free(list); return; }
  for (char *name = list; name < list + len; name += strlen(name) + 1) {
    ssize_t vlen = lgetxattr(path, name, NULL, 0);
    int err = errno;
    char *value = NULL;
    if (vlen > 0) {
      value = malloc((size_t)vlen);
      if (!value) { set_oom(w); break; }
      vlen = lgetxattr(path, name, value, (size_t)vlen);
      err = errno;
    }
    if (vlen < 0) {
      free(value);
      if (err == ENOTSUP || err == ENODATA) continue;
      fail(e, OP_GETXATTR, err, name);
      break;
    }
    size_t n = strlen(name) + 1;
    memcpy(e->xnames + names_len, name, n);
    names_len += n;
    e->xvalues[e->xcount] = value;
    e->xlens[e->xcount] = (size_t)vlen;
    e->xcount++;
  }
  free(list);
}

static void add_job(Walk *w, Entry *dir, char *path, size_t len) {
  pthread_mutex_lock(&w->mu);
  if (!grow((void **)&w->jobs, &w->cap, w->njobs + 1, sizeof(Job))) {
    set_oom(w);
    free(path);
  } else {
    w->jobs[w->njobs++] = (Job){dir, path, len};
    pthread_cond_signal(&w->cv);
  }
  pthread_mutex_unlock(&w->mu);
}

/* Looks at the entry at `path` (lstat, xattrs, target); a directory to list becomes a job. */
static void look(Walk *w, Entry *e, char *path, size_t len) {
  if (lstat(path, &e->st) != 0) {
    fail(e, OP_LSTAT, errno, NULL);
    free(path);
    return;
  }
  if (w->xattrs) read_xattrs(w, e, path);
  if (S_ISLNK(e->st.st_mode)) {
    /* st_size is the target's length on most filesystems; a longer answer means it was not. */
    size_t cap = (size_t)e->st.st_size + 1;
    char *target = NULL;
    ssize_t n;
    for (;;) {
      char *more = realloc(target, cap);
      if (!more) { free(target); free(path); set_oom(w); return; }
      target = more;
      n = readlink(path, target, cap);
      if (n < 0 || (size_t)n < cap || cap >= (1u << 20)) break;
      cap *= 2;
    }
    if (n < 0) {
      fail(e, OP_READLINK, errno, NULL);
      free(target);
    } else {
      e->target = target;
      e->target_len = (size_t)n;
    }
  }
  if (S_ISDIR(e->st.st_mode) && !(w->one_fs && e->st.st_dev != w->root_dev)) add_job(w, e, path, len);
  else free(path);
}

static int by_name(const void *a, const void *b) { return strcmp(((const Entry *)a)->name, ((const Entry *)b)->name); }

/* Reads the names in directory `dir` into its kids; 0, or the errno of opendir/readdir. */
static int read_names(Walk *w, Entry *dir, const char *path) {
  DIR *d = opendir(path);
  if (!d) return errno;
  size_t cap = 0;
  int err = 0;
  for (;;) {
    /* readdir leaves errno alone at the end of the directory: clear it before each call. */
    errno = 0;
    struct dirent *de = readdir(d);
    if (!de) {
      err = errno;
      break;
    }
    if (de->d_name[0] == '.' && (de->d_name[1] == 0 || (de->d_name[1] == '.' && de->d_name[2] == 0))) continue;
    if (!grow((void **)&dir->kids, &cap, dir->nkids + 1, sizeof(Entry))) { set_oom(w); break; }
    Entry *k = &dir->kids[dir->nkids];
    memset(k, 0, sizeof *k);
    if (!(k->name = strdup(de->d_name))) { set_oom(w); break; }
    dir->nkids++;
  }
  closedir(d);
  return err;
}

/* Lists the directory of `job` and looks at each of its entries. */
static void list(Walk *w, Job job) {
  Entry *dir = job.dir;
  /* ENOMEM, EINTR and EAGAIN pass: such a listing is read again from the start (a few times,
     a millisecond apart) before it counts as a failure. A scandir ENOMEM was seen once, in a
     walk of a freshly written image under a loop mount; it did not come back. */
  int err = 0;
  for (int attempt = 0; attempt < 5; attempt++) {
    for (size_t i = 0; i < dir->nkids; i++) free(dir->kids[i].name);
    free(dir->kids);
    dir->kids = NULL;
    dir->nkids = 0;
    err = read_names(w, dir, job.path);
    if (err != ENOMEM && err != EINTR && err != EAGAIN) break;
    struct timespec pause = {0, 1000000};
    nanosleep(&pause, NULL);
  }
  if (err) fail(dir, OP_SCANDIR, err, NULL);
  if (err && dir->nkids == 0) {
    free(job.path);
    return;
  }
  qsort(dir->kids, dir->nkids, sizeof(Entry), by_name);
  for (size_t i = 0; i < dir->nkids && !__atomic_load_n(&w->oom, __ATOMIC_RELAXED); i++) {
    Entry *k = &dir->kids[i];
    size_t n = strlen(k->name);
    char *child = malloc(job.len + 1 + n + 1);
    if (!child) { set_oom(w); break; }
    memcpy(child, job.path, job.len);
    size_t at = job.len;
    if (job.len == 0 || job.path[job.len - 1] != '/') child[at++] = '/';
    memcpy(child + at, k->name, n + 1);
    look(w, k, child, at + n);
  }
  free(job.path);
}

/* Takes jobs until there are none left and none being done (which could add more). */
static void *work(void *arg) {
  Walk *w = arg;
  pthread_mutex_lock(&w->mu);
  for (;;) {
    if (w->njobs > 0) {
      Job job = w->jobs[--w->njobs];
      w->busy++;
      pthread_mutex_unlock(&w->mu);
      list(w, job);
      pthread_mutex_lock(&w->mu);
      w->busy--;
      if (w->njobs == 0 && w->busy == 0) pthread_cond_broadcast(&w->cv);
      continue;
    }
    if (w->busy == 0) break;
    pthread_cond_wait(&w->cv, &w->mu);
  }
  pthread_mutex_unlock(&w->mu);
  return NULL;
}

static void free_entry(Entry *e) {
  free(e->name);
  free(e->fail_name);
  free(e->target);
  free(e->xnames);
  for (size_t i = 0; i < e->xcount; i++) free(e->xvalues[i]);
  free(e->xvalues);
  free(e->xlens);
  for (size_t i = 0; i < e->nkids; i++) free_entry(&e->kids[i]);
  free(e->kids);
}

/* The result's arrays, filled in tree order. */
typedef struct {
  napi_env env;
  char *names;
  size_t names_len, names_cap;
  double *stats;
  size_t count, stats_cap;
  napi_value extra;
  int oom;
} Out;

static napi_value buffer_of(napi_env env, const char *data, size_t len) {
  napi_value b;
  void *copy;
  napi_create_buffer_copy(env, len, data, &copy, &b);
  return b;
}

static void emit_extra(Out *o, size_t index, const Entry *e) {
  if (!e->fail_op && !e->target && !e->xcount) return;
  napi_env env = o->env;
  napi_value obj, v;
  napi_create_object(env, &obj);
  if (e->xcount) {
    napi_value names, values, pair;
    napi_create_array_with_length(env, e->xcount, &names);
    napi_create_array_with_length(env, e->xcount, &values);
    const char *name = e->xnames;
    for (size_t i = 0; i < e->xcount; i++, name += strlen(name) + 1) {
      napi_create_string_utf8(env, name, NAPI_AUTO_LENGTH, &v);
      napi_set_element(env, names, (uint32_t)i, v);
      napi_set_element(env, values, (uint32_t)i, buffer_of(env, e->xvalues[i] ? e->xvalues[i] : "", e->xlens[i]));
    }
    napi_create_array_with_length(env, 2, &pair);
    napi_set_element(env, pair, 0, names);
    napi_set_element(env, pair, 1, values);
    napi_set_named_property(env, obj, "xattrs", pair);
  }
  if (e->target) napi_set_named_property(env, obj, "target", buffer_of(env, e->target, e->target_len));
  if (e->fail_op) {
    napi_value f;
    napi_create_object(env, &f);
    napi_create_string_utf8(env, OP_NAMES[e->fail_op], NAPI_AUTO_LENGTH, &v);
    napi_set_named_property(env, f, "op", v);
    napi_create_int32(env, e->fail_errno, &v);
    napi_set_named_property(env, f, "errno", v);
    if (e->fail_name) {
      napi_create_string_utf8(env, e->fail_name, NAPI_AUTO_LENGTH, &v);
      napi_set_named_property(env, f, "name", v);
    }
    napi_set_named_property(env, obj, "failed", f);
  }
  napi_set_element(env, o->extra, (uint32_t)index, obj);
}

/* Appends `e` and, below it, its entries: tree order. */
static void emit(Out *o, const Entry *e, int depth) {
  if (o->oom) return;
  size_t index = o->count;
  size_t nlen = strlen(e->name);
  if (!grow((void **)&o->names, &o->names_cap, o->names_len + nlen + 1, 1) ||
      !grow((void **)&o->stats, &o->stats_cap, (index + 1) * WALK_FIELDS, sizeof(double))) {
    o->oom = 1;
    return;
  }
  memcpy(o->names + o->names_len, e->name, nlen + 1);
  o->names_len += nlen + 1;
  double *f = o->stats + index * WALK_FIELDS;
  memset(f, 0, WALK_FIELDS * sizeof(double));
  f[F_DEPTH] = depth;
  o->count++;
  if (e->fail_op != OP_LSTAT) {
    const struct stat *st = &e->st;
    f[F_MODE] = st->st_mode;
    f[F_UID] = st->st_uid;
    f[F_GID] = st->st_gid;
    f[F_SIZE] = (double)st->st_size;
    f[F_NLINK] = (double)st->st_nlink;
    f[F_DEV] = (double)st->st_dev;
    f[F_INO] = (double)st->st_ino;
    f[F_RDEV_MAJOR] = major(st->st_rdev);
    f[F_RDEV_MINOR] = minor(st->st_rdev);
    f[F_ATIME_SEC] = (double)st->st_atim.tv_sec;
    f[F_ATIME_NSEC] = (double)st->st_atim.tv_nsec;
    f[F_MTIME_SEC] = (double)st->st_mtim.tv_sec;
    f[F_MTIME_NSEC] = (double)st->st_mtim.tv_nsec;
    f[F_CTIME_SEC] = (double)st->st_ctim.tv_sec;
    f[F_CTIME_NSEC] = (double)st->st_ctim.tv_nsec;
  }
  emit_extra(o, index, e);
  for (size_t i = 0; i < e->nkids; i++) emit(o, &e->kids[i], depth + 1);
}

static napi_value walk(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4], result, v;
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  size_t len;
  if (argc < 3 || napi_get_value_string_utf8(env, argv[0], NULL, 0, &len) != napi_ok) {
    napi_throw_type_error(env, NULL, "walk(root, oneFileSystem, xattrs[, threads])");
    return NULL;
  }
  char *root = malloc(len + 1);
  if (!root) {
    napi_throw_error(env, "ENOMEM", "out of memory while walking the directory tree");
    return NULL;
  }
  napi_get_value_string_utf8(env, argv[0], root, len + 1, &len);
  bool one_fs, xattrs;
  napi_get_value_bool(env, argv[1], &one_fs);
  napi_get_value_bool(env, argv[2], &xattrs);
  int32_t threads = 2;
  napi_valuetype t = napi_undefined;
  if (argc > 3) napi_typeof(env, argv[3], &t);
  if (t == napi_number) napi_get_value_int32(env, argv[3], &threads);
  if (threads < 1) threads = 1;
  if (threads > 16) threads = 16;

  Walk w = {.one_fs = one_fs, .xattrs = xattrs};
  pthread_mutex_init(&w.mu, NULL);
  pthread_cond_init(&w.cv, NULL);
  struct stat st;
  if (lstat(root, &st) == 0) w.root_dev = st.st_dev;
  Entry top;
  memset(&top, 0, sizeof top);
  top.name = strdup("");
  if (top.name) look(&w, &top, root, len); /* takes root */
  else {
    set_oom(&w);
    free(root);
  }
  pthread_t helpers[16];
  int started = 0;
  for (int i = 1; i < threads; i++) {
    if (pthread_create(&helpers[started], NULL, work, &w) == 0) started++;
  }
  work(&w);
  for (int i = 0; i < started; i++) pthread_join(helpers[i], NULL);
  pthread_mutex_destroy(&w.mu);
  pthread_cond_destroy(&w.cv);
  free(w.jobs);

  Out o = {.env = env};
  if (!w.oom) {
    napi_create_array(env, &o.extra);
    emit(&o, &top, 0);
  }
  free_entry(&top);
  if (w.oom || o.oom) {
    free(o.names);
    free(o.stats);
    napi_throw_error(env, "ENOMEM", "out of memory while walking the directory tree");
    return NULL;
  }
  napi_create_object(env, &result);
  napi_set_named_property(env, result, "names", buffer_of(env, o.names ? o.names : "", o.names_len));
  void *data;
  napi_value ab;
  napi_create_arraybuffer(env, o.count * WALK_FIELDS * sizeof(double), &data, &ab);
  if (o.count) memcpy(data, o.stats, o.count * WALK_FIELDS * sizeof(double));
  napi_create_typedarray(env, napi_float64_array, o.count * WALK_FIELDS, ab, 0, &v);
  napi_set_named_property(env, result, "stats", v);
  napi_set_named_property(env, result, "extra", o.extra);
  free(o.names);
  free(o.stats);
  return result;
}

static napi_value init(napi_env env, napi_value exports) {
  napi_value fn;
  napi_create_function(env, "walk", NAPI_AUTO_LENGTH, walk, NULL, &fn);
  napi_set_named_property(env, exports, "walk", fn);
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
