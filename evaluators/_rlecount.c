/* COCO compressed RLE counts strings in one pass each (optional accelerator of evaluators.rle).
 *
 * counts_totals(strings) -> (list of totals, bad index, reason)
 *   For each string (str or bytes), decode the run lengths exactly as pycocotools' rleFrString does
 *   (5-bit little-endian groups, 0x20 = continuation, 0x10 sign-extends the last byte, runs from the
 *   fourth on are deltas to the run two before) and return the sum of the runs. Parsing stops at the
 *   first malformed string: bad index >= 0 and a reason; totals then holds the strings before it.
 * overlap(a, b) -> (|a AND b|, |a|, |b|, total a, total b)
 *   Intersection and areas of two masks of one size from their counts strings, each decoded and
 *   validated in one streaming pass (no run arrays, no dense decode, no re-encoding); on a malformed
 *   string ValueError with args (0 for a / 1 for b, reason).
 * Both decode groups with GROUP() (group_slow() for the rare long or malformed group): the one
 * implementation of the counts grammar here.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <limits.h>
#include <stdint.h>
#include <string.h>

static const char *ERR_CHAR = "compressed RLE 'counts' has characters outside the COCO alphabet";
static const char *ERR_END = "compressed RLE 'counts' ends inside a run length";
static const char *ERR_BIG = "compressed RLE 'counts' has a run too large";
static const char *ERR_NEG = "compressed RLE 'counts' has a negative run length";

/* A group of three or more bytes, or a malformed one, at s[p] (s[n] is readable: Python strings end
 * with a NUL): its signed value into *v; returns the position after it, or -1 with *reason. */
static Py_ssize_t group_slow(const unsigned char *s, Py_ssize_t n, Py_ssize_t p, long long *v,
                             const char **reason) {
    long long x = 0;
    int k = 0, c = (int)s[p++] - 48;
    for (;;) {
        if (c < 0 || c > 63) { *reason = ERR_CHAR; return -1; }
        if (k >= 7) { *reason = ERR_BIG; return -1; }
        x |= (long long)(c & 0x1f) << (5 * k);
        k++;
        if (!(c & 0x20)) break;
        if (p >= n) { *reason = ERR_END; return -1; }
        c = (int)s[p++] - 48;
    }
    if (c & 0x10) x -= 1LL << (5 * k); /* sign-extend */
    *v = x;
    return p;
}

/* The signed value of the group at s[p] (p < n) into v, p moved past it; `goto fail` with reason set
 * on a malformed group. Groups of one or two bytes (nearly all) take no data-dependent branch: in a
 * noisy mask the sign and the length of a group are as good as random, and mispredicted branches
 * used to dominate the time. */
#define GROUP(s, n, p, v)                                                                             \
    do {                                                                                              \
        int c0_ = (int)(s)[p] - 48, c1_ = (int)(s)[(p) + 1] - 48, two_ = (c0_ >> 5) & 1;             \
        if ((unsigned)c0_ > 63 || (two_ & (((unsigned)c1_ > 63) | (c1_ >> 5) | ((p) + 1 >= (n))))) { \
            long long w_ = 0;                                                                         \
            (p) = group_slow((s), (n), (p), &w_, &reason);                                            \
            if ((p) < 0) goto fail;                                                                   \
            (v) = w_;                                                                                 \
        } else {                                                                                      \
            long long v1_ = c0_ - ((c0_ & 0x10) << 1);                                                \
            long long v2_ = (long long)((c0_ & 0x1f) | ((c1_ & 0x1f) << 5)) - ((long long)(c1_ & 0x10) << 6); \
            (v) = two_ ? v2_ : v1_;                                                                   \
            (p) += 1 + two_;                                                                          \
        }                                                                                             \
    } while (0)

/* Runs of the string s[0..n) into x, one by one, running the statements ... for each with m its index (deltas
 * applied); `goto fail` with reason set when the string is malformed. Group ends are found 8 bytes at
 * a time from a bit mask (a byte < '0' + 32 ends a group), so the next group's position never waits
 * for the previous group's bytes; the alphabet is checked on the same words. On any defect the scalar
 * parse() re-reads the string to name the first one. */
#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__
#define FAST_RUNS 1
#else
#define FAST_RUNS 0 /* the scalar decoder only */
#endif

#define FOR_EACH_RUN(s, n, x, m, ...)                                                              \
    do {                                                                                            \
        const uint64_t HI_ = 0x8080808080808080ULL, ONE_ = 0x0101010101010101ULL;                   \
        long long r1_ = 0, r2_ = 0;                                                                 \
        Py_ssize_t gs_ = 0;                                                                         \
        (m) = 0;                                                                                    \
        for (Py_ssize_t base_ = 0; base_ < (n); base_ += 8) {                                       \
            uint64_t w_ = 0x3030303030303030ULL, live_ = ~0ULL;                                     \
            if (base_ + 8 <= (n)) memcpy(&w_, (s) + base_, 8);                                      \
            else {                                                                                  \
                memcpy(&w_, (s) + base_, (size_t)((n) - base_));                                    \
                live_ = (1ULL << (8 * ((n) - base_))) - 1;                                          \
            }                                                                                       \
            uint64_t x7_ = w_ | HI_;                                                                \
            uint64_t bad_ = ((w_ & HI_) | (~(x7_ - 48 * ONE_) & HI_) | ((x7_ - 112 * ONE_) & HI_)) & live_; \
            if (bad_) { reason = ERR_CHAR; goto scalar; }                                           \
            uint64_t ends_ = ~(x7_ - 80 * ONE_) & HI_ & live_;                                      \
            while (ends_) {                                                                         \
                Py_ssize_t e_ = base_ + (__builtin_ctzll(ends_) >> 3), len_ = e_ - gs_ + 1;          \
                ends_ &= ends_ - 1;                                                                 \
                int c0_ = (int)(s)[gs_] - 48, c1_ = (int)(s)[gs_ + 1] - 48;                         \
                long long v1_ = c0_ - ((c0_ & 0x10) << 1);                                          \
                long long v2_ = (long long)((c0_ & 0x1f) | ((c1_ & 0x1f) << 5)) - ((long long)(c1_ & 0x10) << 6); \
                long long sel_ = -(long long)(len_ == 1), v_ = (v1_ & sel_) | (v2_ & ~sel_);           \
                if (len_ > 2) {                                                                     \
                    if (len_ > 7) goto scalar;                                                      \
                    v_ = 0;                                                                         \
                    for (Py_ssize_t i_ = 0; i_ < len_; i_++)                                        \
                        v_ |= (long long)(((int)(s)[gs_ + i_] - 48) & 0x1f) << (5 * i_);            \
                    if (((int)(s)[e_] - 48) & 0x10) v_ -= 1LL << (5 * len_);                        \
                }                                                                                   \
                gs_ = e_ + 1;                                                                       \
                if ((m) > 2) v_ += r2_;                                                             \
                if (v_ < 0) goto scalar;                                                            \
                r2_ = r1_;                                                                          \
                r1_ = v_;                                                                           \
                (x) = v_;                                                                           \
                __VA_ARGS__;                                                                        \
                (m)++;                                                                              \
            }                                                                                       \
        }                                                                                           \
        if (gs_ != (n)) goto scalar;                                                                \
    } while (0)

/* Sum of the runs of one string into *total; NULL, or the reason it is malformed (the first defect,
 * reading from the start). */
static const char *parse_scalar(const unsigned char *s, Py_ssize_t n, long long *total) {
    const char *reason = NULL;
    long long r1 = 0, r2 = 0, sum = 0, x = 0;
    for (Py_ssize_t p = 0, m = 0; p < n; m++) {
        GROUP(s, n, p, x);
        if (m > 2) x += r2;
        if (x < 0) { reason = ERR_NEG; goto fail; }
        sum += x;
        r2 = r1;
        r1 = x;
    }
    *total = sum;
    return NULL;
fail:
    return reason;
}

/* The reason s is malformed after the fast decoder stopped on it. */
static const char *defect(const unsigned char *s, Py_ssize_t n) {
    long long total;
    const char *reason = parse_scalar(s, n, &total);
    return reason ? reason : "compressed RLE 'counts' is malformed";
}

/* parse_scalar() with the word-at-a-time decoder. */
static const char *parse(const unsigned char *s, Py_ssize_t n, long long *total) {
#if FAST_RUNS
    const char *reason = NULL;
    long long x = 0, sum = 0;
    Py_ssize_t m;
    FOR_EACH_RUN(s, n, x, m, sum += x);
    *total = sum;
    return NULL;
scalar:
    (void)reason;
    return defect(s, n);
#else
    return parse_scalar(s, n, total);
#endif
}

/* The bytes of a counts string (ASCII str or bytes); NULL, or the reason it cannot be one. */
static const char *as_buffer(PyObject *item, const unsigned char **buf, Py_ssize_t *len) {
    if (PyUnicode_Check(item)) {
        if (!PyUnicode_IS_ASCII(item)) return ERR_CHAR;
        *buf = (const unsigned char *)PyUnicode_DATA(item);
        *len = PyUnicode_GET_LENGTH(item);
        return NULL;
    }
    if (PyBytes_Check(item)) {
        *buf = (const unsigned char *)PyBytes_AS_STRING(item);
        *len = PyBytes_GET_SIZE(item);
        return NULL;
    }
    return "RLE 'counts' must be a string";
}

/* Mask b decoded as a walks over it: its current run is [start, end) of value one; ones = the 1s of
 * b before start. At the end of the string: done, end = LLONG_MAX, one = 0, total = the sum. */
typedef struct {
    const unsigned char *s;
    Py_ssize_t n, p, m;
    long long r1, r2, start, end, ones, total;
    int one, done;
} Cursor;

/* Move b to its next run; 0, or -1 with *reason. */
static inline int advance(Cursor *b, const char **why) {
    const char *reason = NULL;
    long long x = 0;
    if (b->one) b->ones += b->end - b->start;
    b->start = b->end;
    if (b->p >= b->n) {
        b->done = 1;
        b->total = b->end;
        b->end = LLONG_MAX;
        b->one = 0;
        return 0;
    }
    GROUP(b->s, b->n, b->p, x);
    if (b->m > 2) x += b->r2;
    if (x < 0) { reason = ERR_NEG; goto fail; }
    b->r2 = b->r1;
    b->r1 = x;
    b->m++;
    b->one = !b->one;
    b->end += x;
    return 0;
fail:
    *why = reason;
    return -1;
}

/* 1s of b in [0, pos), b moved forward as needed (pos never decreases between calls). */
#define ONES_BEFORE(b, pos, f)                                                      \
    do {                                                                            \
        while ((pos) > (b).end)                                                     \
            if (advance(&(b), &reason) < 0) { bad = 1; goto fail; }                 \
        (f) = (b).ones + (((pos) - (b).start) & -(long long)(b).one);               \
    } while (0)

/* overlap(a, b) -> (|a AND b|, |a|, |b|, total a, total b)
 *
 * Runs alternate 0s and 1s, starting with 0s. With F(p) the number of 1s of b in [0, p), |a AND b| is
 * the sum over a's 1-runs [s, e) of F(e) - F(s); F is evaluated at a's run boundaries, which only
 * grow, so b is decoded alongside a (the Cursor); a goes through FOR_EACH_RUN. */
static PyObject *overlap(PyObject *self, PyObject *args) {
    PyObject *oa, *ob;
    const unsigned char *s;
    Py_ssize_t n, p = 0;
    Cursor b = {0};
    if (!PyArg_ParseTuple(args, "OO", &oa, &ob)) return NULL;
    int bad = 0;
    const char *reason = as_buffer(oa, &s, &n);
    if (reason) goto fail;
    bad = 1;
    if ((reason = as_buffer(ob, &b.s, &b.n))) goto fail;
    b.one = 1; /* a zero-length 1-run before the first run: advance() then enters the first 0-run */
    bad = 0;
    long long pos = 0, area_a = 0, inter = 0, x = 0, f = 0, f_prev = 0;
#if FAST_RUNS
    Py_ssize_t m;
    FOR_EACH_RUN(s, n, x, m, {
        pos += x;
        ONES_BEFORE(b, pos, f);
        long long odd = -(long long)(m & 1); /* all ones for a 1-run */
        area_a += x & odd;
        inter += (f - f_prev) & odd;
        f_prev = f;
    });
#else
    long long r1 = 0, r2 = 0;
    for (Py_ssize_t m = 0; p < n; m++) {
        GROUP(s, n, p, x);
        if (m > 2) x += r2;
        if (x < 0) { reason = ERR_NEG; goto fail; }
        r2 = r1;
        r1 = x;
        pos += x;
        ONES_BEFORE(b, pos, f);
        if (m & 1) {
            area_a += x;
            inter += f - f_prev;
        }
        f_prev = f;
    }
#endif
    bad = 1;
    while (!b.done)
        if (advance(&b, &reason) < 0) goto fail;
    return Py_BuildValue("(LLLLL)", inter, area_a, b.ones, pos, b.total);
#if FAST_RUNS
    if (0) {
    scalar: /* a is malformed: name its first defect */
        bad = 0;
        reason = defect(s, n);
    }
#endif
fail:;
    PyObject *info = Py_BuildValue("(is)", bad, reason);
    if (info) {
        PyErr_SetObject(PyExc_ValueError, info);
        Py_DECREF(info);
    }
    return NULL;
}

static PyObject *counts_totals(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "counts_totals expects a sequence of strings");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *totals = PyList_New(0);
    if (!totals) { Py_DECREF(seq); return NULL; }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        const unsigned char *buf = NULL;
        Py_ssize_t len = 0;
        long long total = 0;
        const char *reason = as_buffer(item, &buf, &len);
        if (!reason) reason = parse(buf, len, &total);
        if (reason) {
            PyObject *out = Py_BuildValue("(Nns)", totals, i, reason);
            Py_DECREF(seq);
            return out;
        }
        PyObject *t = PyLong_FromLongLong(total);
        if (!t || PyList_Append(totals, t) < 0) { Py_XDECREF(t); Py_DECREF(totals); Py_DECREF(seq); return NULL; }
        Py_DECREF(t);
    }
    Py_DECREF(seq);
    return Py_BuildValue("(Nnz)", totals, (Py_ssize_t)-1, NULL);
}

static PyMethodDef methods[] = {
    {"counts_totals", counts_totals, METH_O, "Totals of COCO compressed RLE counts strings; stops at the first malformed one."},
    {"overlap", overlap, METH_VARARGS, "(|a AND b|, |a|, |b|, total a, total b) of two counts strings in one pass each."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rlecount", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rlecount(void) { return PyModule_Create(&module); }
