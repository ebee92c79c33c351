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
/* Group values by byte (the alphabet is checked before use): a group of one byte b0 is TAB_LOW[b0];
 * of two bytes b0 b1 (b0 >= '0' + 32 carries the continuation bit) TAB_LOW[b0] + TAB_HIGH[b1].
 * TAB_TWO[b0] is all ones when b0 continues. Filled by fill_tables() at import. */
static long long TAB_LOW[256], TAB_HIGH[256], TAB_TWO[256];

static void fill_tables(void) {
    for (int b = 48; b < 112; b++) {
        int c = b - 48;
        TAB_LOW[b] = c < 32 ? c - ((c & 0x10) << 1) : c & 0x1f;
        TAB_HIGH[b] = (long long)((c & 0x1f) << 5) - ((long long)(c & 0x10) << 6);
        TAB_TWO[b] = c < 32 ? 0 : -1;
    }
}

#if defined(__GNUC__) && defined(__BYTE_ORDER__) && __BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__

#if defined(__SSE2__) && !defined(RLECOUNT_NO_SSE2) /* the macro: test the portable code on x86-64 */
#include <emmintrin.h>

/* Bit i of *ends is set when byte base + i (i < 64, base + i < n) ends a group (a byte < '0' + 32);
 * returns nonzero when one of these bytes is outside the alphabet '0'..'o'. Sixteen bytes per compare
 * (SSE2, part of every x86-64); a last partial block is copied into a buffer first. */
static inline int block_ends(const unsigned char *s, Py_ssize_t n, Py_ssize_t base, uint64_t *ends) {
    const unsigned char *p = s + base;
    unsigned char tail[64];
    uint64_t live = ~0ULL, all = 0, bad = 0;
    if (n - base < 64) {
        memset(tail, '0', sizeof tail);
        memcpy(tail, p, (size_t)(n - base));
        p = tail;
        live = (1ULL << (n - base)) - 1;
    }
    for (int k = 0; k < 4; k++) { /* signed compares: a byte >= 128 counts as below '0' */
        __m128i w = _mm_loadu_si128((const __m128i *)(p + 16 * k));
        __m128i out = _mm_or_si128(_mm_cmplt_epi8(w, _mm_set1_epi8(48)), _mm_cmpgt_epi8(w, _mm_set1_epi8(111)));
        bad |= (uint64_t)(unsigned)_mm_movemask_epi8(out) << (16 * k);
        all |= (uint64_t)(unsigned)_mm_movemask_epi8(_mm_cmplt_epi8(w, _mm_set1_epi8(80))) << (16 * k);
    }
    *ends = all & live;
    return (bad & live) != 0;
}

/* For a block whose groups all have one or two bytes (the caller checked), the value of the group that
 * would end at each byte of s[base, base + 64) into val[0..64): at byte i, with c its 6-bit code and q
 * the code of the byte before (which starts i's group when q >= 32), the one-byte group c or the
 * two-byte group q + 32 * c, sign-extended from bit 4 of c. Eight bytes per step, no table and no
 * data-dependent branch; bytes that end no group get values nobody reads. */
static inline void block_groups(const unsigned char *s, Py_ssize_t n, Py_ssize_t base, int16_t *val) {
    unsigned char buf[80];
    const unsigned char *p = s + base;
    if (base == 0 || n - base < 64) { /* the byte before the block ('0' at the start), the block '0'-padded */
        memset(buf, '0', sizeof buf);
        memcpy(buf + 16, p, (size_t)(n - base < 64 ? n - base : 64));
        if (base > 0) buf[15] = s[base - 1];
        p = buf + 16;
    }
    const __m128i zero = _mm_setzero_si128(), k48 = _mm_set1_epi16(48), k31 = _mm_set1_epi16(31),
                  k16 = _mm_set1_epi16(16);
    for (int k = 0; k < 8; k++) {
        __m128i c = _mm_sub_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p + 8 * k)), zero), k48);
        __m128i q = _mm_sub_epi16(_mm_unpacklo_epi8(_mm_loadl_epi64((const __m128i *)(p + 8 * k - 1)), zero), k48);
        __m128i sign = _mm_and_si128(c, k16);
        __m128i one = _mm_sub_epi16(c, _mm_slli_epi16(sign, 1));
        __m128i two = _mm_sub_epi16(_mm_or_si128(_mm_and_si128(q, k31), _mm_slli_epi16(_mm_and_si128(c, k31), 5)),
                                    _mm_slli_epi16(sign, 6));
        __m128i sel = _mm_cmpgt_epi16(q, k31);
        _mm_storeu_si128((__m128i *)(val + 8 * k), _mm_or_si128(_mm_and_si128(sel, two), _mm_andnot_si128(sel, one)));
    }
}

#else
/* Bit i of *ends is set when byte base + i (i < 64, base + i < n) ends a group (a byte < '0' + 32);
 * returns nonzero when one of these bytes is outside the alphabet '0'..'o'. Eight bytes per word; the
 * high bit of each byte's test is gathered into 8 bits by a multiplication. */
static inline int block_ends(const unsigned char *s, Py_ssize_t n, Py_ssize_t base, uint64_t *ends) {
    const uint64_t HI = 0x8080808080808080ULL, ONE = 0x0101010101010101ULL;
    uint64_t all = 0, bad = 0;
    for (int k = 0; k < 8; k++) {
        Py_ssize_t at = base + 8 * k;
        uint64_t w = 0x3030303030303030ULL, live = ~0ULL; /* '0' pads the tail (masked off) */
        if (at + 8 <= n) memcpy(&w, s + at, 8);
        else if (at < n) {
            memcpy(&w, s + at, (size_t)(n - at));
            live = (1ULL << (8 * (n - at))) - 1;
        } else live = 0;
        uint64_t x7 = w | HI;
        bad |= ((w & HI) | (~(x7 - 48 * ONE) & HI) | ((x7 - 112 * ONE) & HI)) & live;
        uint64_t e = (~(x7 - 80 * ONE) & HI & live) >> 7; /* 0x01 per group-ending byte */
        all |= ((e * 0x0102040810204080ULL) >> 56) << (8 * k);
    }
    *ends = all;
    return bad != 0;
}

/* block_groups() of the SSE2 build, a byte at a time (see there). */
static inline void block_groups(const unsigned char *s, Py_ssize_t n, Py_ssize_t base, int16_t *val) {
    unsigned char buf[80];
    const unsigned char *p = s + base;
    if (base == 0 || n - base < 64) {
        memset(buf, '0', sizeof buf);
        memcpy(buf + 16, p, (size_t)(n - base < 64 ? n - base : 64));
        if (base > 0) buf[15] = s[base - 1];
        p = buf + 16;
    }
    for (int i = 0; i < 64; i++) {
        int c = (int)p[i] - 48, q = (int)p[i - 1] - 48, sign = c & 16;
        int one = c - (sign << 1), two = ((q & 31) | ((c & 31) << 5)) - (sign << 6);
        val[i] = (int16_t)(q > 31 ? two : one);
    }
}

#endif

#define FOR_EACH_RUN(s, n, x, m, ...)                                                              \
    do {                                                                                            \
        long long r1_ = 0, r2_ = 0, neg_ = 0;                                                       \
        Py_ssize_t gs_ = 0;                                                                         \
        (m) = 0;                                                                                    \
        for (Py_ssize_t base_ = 0; base_ < (n); base_ += 64) {                                      \
            uint64_t ends_;                                                                         \
            if (block_ends((s), (n), base_, &ends_)) { reason = ERR_CHAR; goto scalar; }            \
            while (ends_) {                                                                         \
                Py_ssize_t e_ = base_ + __builtin_ctzll(ends_), len_ = e_ - gs_ + 1;          \
                ends_ &= ends_ - 1;                                                                 \
                unsigned b0_ = (s)[gs_], b1_ = (s)[gs_ + 1];                                        \
                long long v_ = TAB_LOW[b0_] + (TAB_HIGH[b1_] & TAB_TWO[b0_]);                       \
                if (len_ > 2) {                                                                     \
                    if (len_ > 7) goto scalar;                                                      \
                    v_ = 0;                                                                         \
                    for (Py_ssize_t i_ = 0; i_ < len_; i_++)                                        \
                        v_ |= (long long)(((int)(s)[gs_ + i_] - 48) & 0x1f) << (5 * i_);            \
                    if (((int)(s)[e_] - 48) & 0x10) v_ -= 1LL << (5 * len_);                        \
                }                                                                                   \
                gs_ = e_ + 1;                                                                       \
                if ((m) > 2) v_ += r2_;                                                             \
                neg_ |= v_;                                                                         \
                r2_ = r1_;                                                                          \
                r1_ = v_;                                                                           \
                (x) = v_;                                                                           \
                __VA_ARGS__;                                                                        \
                (m)++;                                                                              \
            }                                                                                       \
            if (neg_ < 0) goto scalar; /* a negative run (the statements saw it: harmless) */       \
        }                                                                                           \
        if (gs_ != (n)) goto scalar;                                                                \
    } while (0)

/* The values of the groups of any length that end at the bytes marked in ends (block_ends() of the block
 * at base) into v (at most 64 of them), the first group starting at *gs (moved past the last); returns
 * how many, or -1 when a group is longer than 7 bytes (the caller names the defect). */
static inline int block_values(const unsigned char *s, Py_ssize_t base, uint64_t ends, Py_ssize_t *gs,
                               long long *v) {
    Py_ssize_t g = *gs;
    int c = 0;
    while (ends) {
        Py_ssize_t e = base + __builtin_ctzll(ends);
        ends &= ends - 1;
        long long val = 0;
        if (e - g > 6) return -1;
        for (Py_ssize_t i = g; i <= e; i++) val |= (long long)((s[i] - 48) & 0x1f) << (5 * (i - g));
        if ((s[e] - 48) & 0x10) val -= 1LL << (5 * (e - g + 1));
        v[c++] = val;
        g = e + 1;
    }
    *gs = g;
    return c;
}

/* The streamed side of overlap(): the runs of s[0..n) against the boundaries bnd of the other mask
 * (see overlap(); *k is the next boundary to meet, moved on). Into *area the 1s of s, into *inter the
 * intersection terms, into *total the sum of the runs; returns 0, or -1 when s is malformed (the caller
 * names the defect). Group values come 64 bytes at a time (block_groups(), or block_values() for longer groups); runs are then taken in
 * pairs, a 1-run and the 0-run after it, so the delta chains of the two parities are two plain running
 * sums and a pair that holds no boundary costs a few adds and one compare. */
static int stream_runs(const unsigned char *s, Py_ssize_t n, const long long *bnd, Py_ssize_t *kk,
                       long long *area_out, long long *inter_out, long long *total_out) {
    long long v[66];
    long long xo = 0, xe = 0, pos = 0, area = 0, inter = 0, neg = 0;
    Py_ssize_t k = *kk, gs = 0;
    int have = 0, first = 1; /* have: a value carried over from the last block (a 1-run), in v[0] */
/* One pair of runs: a 1-run of value a_ and the 0-run of value b_ after it (values before the deltas) */
#define PAIR(a_, b_)                                                                                   \
    do {                                                                                               \
        long long start = pos;                                                                         \
        xo += (a_); /* runs 1, 3, 5, ...: run m adds to run m - 2 from m = 3 on */                     \
        xe += (b_); /* runs 2, 4, 6, ... */                                                            \
        pos = start + xo + xe;                                                                         \
        neg |= xo | xe;                                                                                \
        area += xo;                                                                                    \
        if (bnd[k] <= pos) { /* rare: a boundary in (start, pos]; A there is before + min(b - start, xo) */ \
            long long before = area - xo;                                                              \
            do {                                                                                       \
                long long d = bnd[k] - start, a = before + (d < xo ? d : xo), odd = -(long long)(k & 1); \
                inter += (a ^ odd) - odd; /* -a where a 1-run of t starts (odd k), +a where it ends */ \
                k++;                                                                                   \
            } while (bnd[k] <= pos);                                                                   \
        }                                                                                              \
    } while (0)
    for (Py_ssize_t base = 0; base < n; base += 64) {
        /* The common block (every group of one or two bytes): group values by block_groups(), runs
         * taken in pairs straight from the group ends, one loop per block */
        uint64_t ends;
        if (block_ends(s, n, base, &ends)) return -1;
        uint64_t live = n - base >= 64 ? ~0ULL : (1ULL << (n - base)) - 1, cont = ~ends & live;
        if (ends && !(cont & ((cont << 1) | (uint64_t)(gs < base))) && gs >= base - 1) {
            int16_t val[64];
            block_groups(s, n, base, val);
            gs = base + 64 - __builtin_clzll(ends);
            if (first) { /* run 0 (0s): no delta, and not in the chain of the later even runs */
                first = 0;
                pos = val[__builtin_ctzll(ends)];
                ends &= ends - 1;
                neg |= pos;
                while (bnd[k] <= pos) k++; /* A = 0 there */
            }
            if (have && ends) {
                PAIR(v[0], val[__builtin_ctzll(ends)]);
                ends &= ends - 1;
                have = 0;
            }
            while (ends & (ends - 1)) {
                int e1 = __builtin_ctzll(ends);
                ends &= ends - 1;
                int e2 = __builtin_ctzll(ends);
                ends &= ends - 1;
                PAIR(val[e1], val[e2]);
            }
            if (ends) { /* a 1-run whose 0-run is in the next block */
                have = 1;
                v[0] = val[__builtin_ctzll(ends)];
            }
            if (neg < 0) return -1; /* a negative run */
            continue;
        }
        /* another block (a group of three or more bytes): group by group */
        int c = block_values(s, base, ends, &gs, v + have);
        if (c < 0) return -1;
        c += have;
        int i = 0;
        if (first && c) { /* run 0 (0s): no delta, and not in the chain of the later even runs */
            first = 0;
            pos = v[0];
            neg |= pos;
            while (bnd[k] <= pos) k++; /* A = 0 there */
            i = 1;
        }
        for (; i + 1 < c; i += 2) PAIR(v[i], v[i + 1]);
        have = i < c;
        if (have) v[0] = v[i];
        if (neg < 0) return -1; /* a negative run */
    }
#undef PAIR
    if (gs != n) return -1; /* ends inside a group */
    if (have) { /* the last run is a 1-run */
        long long start = pos, before = area;
        xo += v[0];
        pos += xo;
        area += xo;
        if (xo < 0) return -1;
        for (; bnd[k] <= pos; k++) inter += (k & 1) ? -(before + bnd[k] - start) : before + bnd[k] - start;
    }
    *kk = k;
    *area_out = area;
    *inter_out = inter;
    *total_out = pos;
    return 0;
}
#define HAVE_STREAM_RUNS 1

#else
/* The scalar FOR_EACH_RUN: group by group with GROUP(). */
#define FOR_EACH_RUN(s, n, x, m, ...)                                                              \
    do {                                                                                            \
        long long r1_ = 0, r2_ = 0;                                                                 \
        Py_ssize_t p_ = 0;                                                                          \
        for ((m) = 0; p_ < (n); (m)++) {                                                            \
            GROUP((s), (n), p_, (x));                                                               \
            if ((m) > 2) (x) += r2_;                                                                \
            if ((x) < 0) goto scalar;                                                               \
            r2_ = r1_;                                                                              \
            r1_ = (x);                                                                              \
            __VA_ARGS__;                                                                            \
        }                                                                                           \
    } while (0)
#endif

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

/* parse_scalar() with FOR_EACH_RUN. */
static const char *parse(const unsigned char *s, Py_ssize_t n, long long *total) {
    const char *reason = NULL;
    long long x = 0, sum = 0;
    Py_ssize_t m;
    FOR_EACH_RUN(s, n, x, m, sum += x);
    *total = sum;
    return NULL;
fail: __attribute__((unused)); /* GROUP's exit, used by the scalar FOR_EACH_RUN only */
scalar:
    (void)reason;
    return defect(s, n);
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

/* overlap(a, b) -> (|a AND b|, |a|, |b|, total a, total b)
 *
 * Runs alternate 0s and 1s, starting with 0s. The shorter string (t) is decoded into the list of its
 * run boundaries; the longer (l) is streamed. With A(p) the number of 1s of l in [0, p), |l AND t| is
 * the sum over t's 1-runs [s, e) of A(e) - A(s); each boundary of t is met once while l is streamed,
 * and A there comes from the l run that holds it. A run of l that holds no boundary (nearly all, when
 * l is the noisy one) costs an add and a compare. On a malformed string ValueError with args (0 for
 * a / 1 for b, reason). */
static PyObject *overlap(PyObject *self, PyObject *args) {
    PyObject *obj[2];
    const unsigned char *str[2];
    Py_ssize_t len[2];
    if (!PyArg_ParseTuple(args, "OO", &obj[0], &obj[1])) return NULL;
    int bad = 0, t = 0;
    const char *reason = NULL;
    long long *bnd = NULL;
    for (bad = 0; bad < 2; bad++)
        if ((reason = as_buffer(obj[bad], &str[bad], &len[bad]))) goto fail;
    t = len[1] <= len[0]; /* index of the shorter string */
    bad = t;
    /* bnd[k]: where run k of t starts (k <= runs: bnd[runs] is the total), then a sentinel */
    bnd = PyMem_Malloc(sizeof(long long) * (size_t)(len[t] + 2));
    if (!bnd) return PyErr_NoMemory();
    long long x = 0, pos = 0, area_t = 0;
    Py_ssize_t m, runs; /* runs: the last boundary that counts */
    const unsigned char *s = str[t];
    Py_ssize_t n = len[t];
    FOR_EACH_RUN(s, n, x, m, {
        bnd[m] = pos;
        pos += x;
        area_t += x & -(long long)(m & 1);
    });
    long long total_t = pos;
    /* Boundary k starts run k and ends run k - 1 (1-runs have odd k): the total is a boundary only
     * when it ends a 1-run */
    bnd[m] = total_t;
    runs = m & 1 ? m - 1 : m;
    bnd[runs + 1] = LLONG_MAX;
    bad = !t;
    s = str[!t];
    n = len[!t];
    long long area_l = 0, inter = 0;
    Py_ssize_t k = 1; /* the next boundary to meet (boundary 0 counts for nothing) */
    pos = 0;
#ifdef HAVE_STREAM_RUNS
    if (stream_runs(s, n, bnd, &k, &area_l, &inter, &pos) < 0) goto scalar;
#else
    long long prev = 0;
    FOR_EACH_RUN(s, n, x, m, {
        long long odd = -(long long)(m & 1); /* all ones for a 1-run */
        prev = pos;
        pos += x;
        while (bnd[k] <= pos) { /* boundary k of t lies in this run [prev, pos] of l */
            long long at = area_l + ((bnd[k] - prev) & odd);
                inter += (k & 1) ? -at : at; /* a 1-run of t starts at an odd boundary, ends at an even one */
            k++;
        }
        area_l += x & odd;
    });
#endif
    for (; k <= runs; k++) inter += (k & 1) ? -area_l : area_l; /* t longer than l: an error below */
    PyMem_Free(bnd);
    if (t) return Py_BuildValue("(LLLLL)", inter, area_l, area_t, pos, total_t);
    return Py_BuildValue("(LLLLL)", inter, area_t, area_l, total_t, pos);
scalar: /* str[bad] is malformed: name its first defect */
    reason = defect(str[bad], len[bad]);
fail:
    PyMem_Free(bnd);
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

PyMODINIT_FUNC PyInit__rlecount(void) {
    fill_tables();
    return PyModule_Create(&module);
}
