/* Fast validation of COCO compressed RLE counts strings (optional accelerator of evaluators.rle).
 *
 * counts_totals(strings) -> (list of totals, bad index, reason)
 *   For each string (str or bytes), decode the run lengths exactly as pycocotools' rleFrString does
 *   (5-bit little-endian groups, 0x20 = continuation, 0x10 sign-extends the last byte, runs from the
 *   fourth on are deltas to the run two before) and return the sum of the runs. Parsing stops at the
 *   first malformed string: bad index >= 0 and a reason; totals then holds the strings before it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

static const char *parse(const unsigned char *s, Py_ssize_t n, long long *total) {
    long long runs_m1 = 0, runs_m2 = 0, sum = 0; /* runs[m-1], runs[m-2] */
    Py_ssize_t p = 0, m = 0;
    while (p < n) {
        long long x = 0;
        int k = 0, more = 1;
        while (more) {
            if (p >= n) return "compressed RLE 'counts' ends inside a run length";
            int c = (int)s[p] - 48;
            if (c < 0 || c > 63) return "compressed RLE 'counts' has characters outside the COCO alphabet";
            if (k >= 7) return "compressed RLE 'counts' has a run too large";
            x |= (long long)(c & 0x1f) << (5 * k);
            more = c & 0x20;
            p++;
            k++;
            if (!more && (c & 0x10)) x |= -1LL << (5 * k);
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
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {PyModuleDef_HEAD_INIT, "_rlecount", NULL, -1, methods};

PyMODINIT_FUNC PyInit__rlecount(void) { return PyModule_Create(&module); }
