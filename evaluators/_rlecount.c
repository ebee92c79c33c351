/* Fast validation of COCO compressed RLE counts strings (optional accelerator of evaluators.rle).
 *
 * counts_totals(strings) -> (list of totals, bad index, reason)
 *   For each string (str or bytes), decode the run lengths exactly as pycocotools' rleFrString does
 *   (5-bit little-endian groups, 0x20 = continuation, 0x10 sign-extends the last byte, runs from the
 *   fourth on are deltas to the run two before) and return the sum of the runs. Parsing stops at the
 *   first malformed string: bad index >= 0 and a reason; totals then holds the strings before it.
 * overlap(a, b) -> (|a AND b|, |a|, |b|, total a, total b)
 *   Intersection and areas of two masks of one size from their counts strings, decoded in one
 *   streaming pass each (no dense decode, no re-encoding); ValueError on a malformed string.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static const char *parse(const unsigned char *s, Py_ssize_t n, long long *total) {
    long long runs_m1 = 0, runs_m2 = 0, sum = 0; /* runs[m-1], runs[m-2] */
    Py_ssize_t p = 0, m = 0;
    while (p < n) {
        long long x = 0;
        int k = 0, more = 1, c0 = (int)s[p] - 48;
        if ((unsigned)c0 < 32) { /* the common case: a one-byte group, no continuation */
            x = (c0 & 0x10) ? c0 - 32 : c0;
            p++;
            more = 0;
        }
        while (more) {
            if (p >= n) return "compressed RLE 'counts' ends inside a run length";
            int c = (int)s[p] - 48;
            if (c < 0 || c > 63) return "compressed RLE 'counts' has characters outside the COCO alphabet";
            if (k >= 7) return "compressed RLE 'counts' has a run too large";
            x |= (long long)(c & 0x1f) << (5 * k);
            more = c & 0x20;
            p++;
            k++;
            if (!more && (c & 0x10)) x -= 1LL << (5 * k); /* sign-extend */
        }
        if (m > 2) x += runs_m2;
        if (x < 0) return "compressed RLE 'counts' has a negative run length";
        sum += x;
        runs_m2 = runs_m1;
        runs_m1 = x;
        m++;
    }
    *total = sum;
    return NULL;
}

/* Decode one counts string into runs[] (capacity n: a run takes at least one byte); returns the
 * number of runs, or -1 with *reason set. Same rules as parse(). */
static Py_ssize_t decode_runs(const unsigned char *s, Py_ssize_t n, long long *runs, const char **reason) {
    Py_ssize_t p = 0, m = 0;
    while (p < n) {
        long long x = 0;
        int k = 0, c = (int)s[p] - 48;
        if ((unsigned)c < 32) { /* the common case: a one-byte group, no continuation */
            x = (c & 0x10) ? c - 32 : c;
            p++;
            if (m > 2) x += runs[m - 2];
            if (x < 0) { *reason = "compressed RLE 'counts' has a negative run length"; return -1; }
            runs[m++] = x;
            continue;
        }
        do {
            if (p >= n) { *reason = "compressed RLE 'counts' ends inside a run length"; return -1; }
            c = (int)s[p++] - 48;
            if (c < 0 || c > 63) { *reason = "compressed RLE 'counts' has characters outside the COCO alphabet"; return -1; }
            if (k >= 7) { *reason = "compressed RLE 'counts' has a run too large"; return -1; }
            x |= (long long)(c & 0x1f) << (5 * k);
            k++;
        } while (c & 0x20);
        if (c & 0x10) x -= 1LL << (5 * k); /* sign-extend */
        if (m > 2) x += runs[m - 2];
        if (x < 0) { *reason = "compressed RLE 'counts' has a negative run length"; return -1; }
        runs[m++] = x;
    }
    return m;
}

static int as_buffer(PyObject *item, const unsigned char **buf, Py_ssize_t *len) {
    if (PyUnicode_Check(item)) {
        if (!PyUnicode_IS_ASCII(item)) {
            PyErr_SetString(PyExc_ValueError, "compressed RLE 'counts' has characters outside the COCO alphabet");
            return -1;
        }
        *buf = (const unsigned char *)PyUnicode_DATA(item);
        *len = PyUnicode_GET_LENGTH(item);
        return 0;
    }
    if (PyBytes_Check(item)) {
        *buf = (const unsigned char *)PyBytes_AS_STRING(item);
        *len = PyBytes_GET_SIZE(item);
        return 0;
    }
    PyErr_SetString(PyExc_ValueError, "RLE 'counts' must be a string");
    return -1;
}

/* overlap(a, b) -> (|a AND b|, |a|, |b|, total a, total b): both counts strings decoded once into run
 * arrays, then merged (runs alternate 0s and 1s, starting with 0s); ValueError on a malformed string. */
static PyObject *overlap(PyObject *self, PyObject *args) {
    PyObject *oa, *ob;
    const unsigned char *sa, *sb;
    Py_ssize_t na, nb;
    if (!PyArg_ParseTuple(args, "OO", &oa, &ob)) return NULL;
    if (as_buffer(oa, &sa, &na) < 0 || as_buffer(ob, &sb, &nb) < 0) return NULL;
    long long *ra = PyMem_Malloc(sizeof(long long) * (size_t)(na + nb + 2));
    if (!ra) return PyErr_NoMemory();
    long long *rb = ra + na + 1;
    const char *reason = NULL;
    Py_ssize_t ma = decode_runs(sa, na, ra, &reason), mb = ma < 0 ? -1 : decode_runs(sb, nb, rb, &reason);
    if (ma < 0 || mb < 0) {
        PyMem_Free(ra);
        PyErr_SetString(PyExc_ValueError, reason);
        return NULL;
    }
    long long inter = 0, area_a = 0, area_b = 0, tot_a = 0, tot_b = 0;
    for (Py_ssize_t i = 0; i < ma; i++) { tot_a += ra[i]; if (i & 1) area_a += ra[i]; }
    for (Py_ssize_t i = 0; i < mb; i++) { tot_b += rb[i]; if (i & 1) area_b += rb[i]; }
    /* merge: position of the current run ends in a and b */
    Py_ssize_t i = 0, j = 0;
    long long end_a = ma ? ra[0] : 0, end_b = mb ? rb[0] : 0, pos = 0;
    while (i < ma && j < mb) {
        long long next = end_a < end_b ? end_a : end_b;
        if ((i & 1) && (j & 1)) inter += next - pos;
        pos = next;
        if (end_a == next && ++i < ma) end_a += ra[i];
        if (end_b == next && ++j < mb) end_b += rb[j];
    }
    PyMem_Free(ra);
    return Py_BuildValue("(LLLLL)", inter, area_a, area_b, tot_a, tot_b);
}

static PyObject *counts_totals(PyObject *self, PyObject *arg) {
    PyObject *seq = PySequence_Fast(arg, "counts_totals expects a sequence of strings");
    if (!seq) return NULL;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(seq);
    PyObject *totals = PyList_New(0);
    if (!totals) { Py_DECREF(seq); return NULL; }
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i);
        const char *buf;
        Py_ssize_t len;
        const char *reason = NULL;
        if (PyUnicode_Check(item)) {
            if (!PyUnicode_IS_ASCII(item)) reason = "compressed RLE 'counts' has characters outside the COCO alphabet";
            buf = (const char *)PyUnicode_DATA(item);
            len = PyUnicode_GET_LENGTH(item);
        } else if (PyBytes_Check(item)) {
            buf = PyBytes_AS_STRING(item);
            len = PyBytes_GET_SIZE(item);
        } else {
            reason = "RLE 'counts' must be a string";
            buf = NULL;
            len = 0;
        }
        long long total = 0;
        if (!reason) reason = parse((const unsigned char *)buf, len, &total);
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
    {"overlap", overlap, METH_VARARGS, "(|a AND b|, |a|, |b|, total a, total b) of two counts strings in one pass."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rlecount", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rlecount(void) { return PyModule_Create(&module); }
