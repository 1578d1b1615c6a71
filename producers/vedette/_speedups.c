/* Compiled fast paths of the producer's per-event work; the Python modules stay the reference.
 *
 * encode_canonical_event(raw) gives exactly the bytes of encode_event(normalize_event(raw)) (with
 * event_id and occurred_at made by the same Python functions where absent) for an event whose
 * fields already have the shapes the producer writes (exact str/int/dict types, a lowercase UUID,
 * a "YYYY-MM-DDTHH:MM:SS.ffffffZ" time), and None for anything else, valid or not: the Python path
 * then normalizes it or raises the error that names the field. So this file holds no error
 * messages and no rule it could get wrong in the caller's favour: it may only say "not sure".
 * tests/test_speedups.py checks both against each other on mutated events.
 *
 * prepare_record is vedette.producer.prepare_record_in_python for such events, down to the
 * PendingRecord (a C struct here), and calls that function for anything else.
 *
 * AggregateBuilder is vedette.kpl.PythonAggregateBuilder with its byte buffers in C;
 * tests/test_kpl.py runs the same byte-for-byte comparisons with aws-kinesis-agg against both.
 *
 * The Python code called from here (is_ip_or_pseudonym, new_event_id, the clock, cached_hash_key,
 * hashlib.md5) runs only while this code holds its own references, never while it walks a dict.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <structmember.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

/* ------------------------------------------------------------------------------------------ */
/* Event encoding                                                                              */

#define FIELD_COUNT 11
/* Room on the stack for the largest event (MAX_EVENT_BYTES is 16 KiB): small enough for the
 * 128 KiB thread stacks of musl, and configure_events() refuses a larger limit. */
#define EVENT_BUFFER_BYTES (16 * 1024 + 64)

enum {
    F_SCHEMA_VERSION,
    F_EVENT_ID,
    F_OCCURRED_AT,
    F_EVENT_TYPE,
    F_USER_ID,
    F_SESSION_ID,
    F_IP,
    F_USER_AGENT,
    F_RESOURCE,
    F_STATUS,
    F_PROPERTIES,
};

typedef struct {
    int configured;
    PyObject *fields[FIELD_COUNT]; /* interned field names, in wire order */
    PyObject *is_ip_or_pseudonym;
    PyObject *new_event_id;
    PyObject *now;
    long schema_version;
    Py_ssize_t max_event_bytes;
    Py_ssize_t max_properties_bytes;
    Py_ssize_t max_properties;
    Py_ssize_t max_property_key_length;
    Py_ssize_t max_id_length;
    Py_ssize_t max_user_agent_length;
    Py_ssize_t max_resource_length;
    Py_ssize_t max_outcome_length;
    Py_ssize_t max_event_type_length;
    long min_status_code;
    long max_status_code;
} EventContract;

static EventContract contract;

static PyObject *empty_string; /* "", made once at import */

typedef struct {
    char *pos;
    char *end;
} Writer;

static inline int
write_bytes(Writer *w, const char *data, Py_ssize_t length)
{
    if (w->end - w->pos < length) {
        return -1;
    }
    memcpy(w->pos, data, (size_t)length);
    w->pos += length;
    return 0;
}

#define WRITE_LITERAL(w, text) write_bytes((w), (text), (Py_ssize_t)(sizeof(text) - 1))

/* JSON string escapes as orjson writes them: the two-character forms it knows, \u00XX otherwise. */
static const char *const CONTROL_ESCAPES[32] = {
    "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
    "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
    "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
    "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
};

/* Whether any of eight bytes is below 0x20, a quote or a backslash (the bit tricks of "Bit
 * Twiddling Hacks": a byte below n, a byte equal to zero; exact for "any"). */
static inline int
needs_escape_in_eight(const char *text)
{
    const uint64_t ones = 0x0101010101010101ULL;
    const uint64_t highs = 0x8080808080808080ULL;
    uint64_t chunk;
    memcpy(&chunk, text, sizeof(chunk));
    uint64_t quotes = chunk ^ (ones * '"');
    uint64_t backslashes = chunk ^ (ones * '\\');
    uint64_t controls = (chunk - ones * 0x20) & ~chunk & highs;
    uint64_t zero_quotes = (quotes - ones) & ~quotes & highs;
    uint64_t zero_backslashes = (backslashes - ones) & ~backslashes & highs;
    return (controls | zero_quotes | zero_backslashes) != 0;
}

/* Whether any byte of text[0:length] needs escaping, eight at a time; the last few are padded with
 * a byte that needs none. */
static inline int
needs_escape(const char *text, Py_ssize_t length)
{
    for (; length >= 8; text += 8, length -= 8) {
        if (needs_escape_in_eight(text)) {
            return 1;
        }
    }
    if (length == 0) {
        return 0;
    }
    char tail[8];
    memset(tail, 'a', sizeof(tail));
    memcpy(tail, text, (size_t)length);
    return needs_escape_in_eight(tail);
}

/* Returns 1 written, 0 not sure (a string UTF-8 cannot encode: orjson's error, on the Python
 * path), -1 out of room or a Python error. */
static int
write_string(Writer *w, PyObject *text)
{
    Py_ssize_t length;
    const char *utf8 = PyUnicode_AsUTF8AndSize(text, &length);
    if (utf8 == NULL) {
        if (PyErr_ExceptionMatches(PyExc_UnicodeEncodeError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    if (w->end - w->pos < length + 2) {
        return -1;
    }
    *w->pos++ = '"';
    if (!needs_escape(utf8, length)) {
        memcpy(w->pos, utf8, (size_t)length);
        w->pos += length;
        *w->pos++ = '"';
        return 1;
    }
    const char *run = utf8;
    const char *stop = utf8 + length;
    for (const char *p = utf8; p < stop; p++) {
        unsigned char c = (unsigned char)*p;
        if (c >= 0x20 && c != '"' && c != '\\') {
            continue;
        }
        const char *escape = c == '"' ? "\\\"" : c == '\\' ? "\\\\" : CONTROL_ESCAPES[c];
        if (write_bytes(w, run, p - run) < 0 || write_bytes(w, escape, (Py_ssize_t)strlen(escape)) < 0) {
            return -1;
        }
        run = p + 1;
    }
    if (write_bytes(w, run, stop - run) < 0 || w->pos == w->end) {
        return -1;
    }
    *w->pos++ = '"';
    return 1;
}

static int
write_unsigned(Writer *w, unsigned long long value, int negative)
{
    char digits[24];
    char *start = digits + sizeof(digits);
    do {
        *--start = (char)('0' + value % 10);
        value /= 10;
    } while (value);
    if (negative) {
        *--start = '-';
    }
    return write_bytes(w, start, digits + sizeof(digits) - start);
}

/* An integer the contract admits in properties (64 bits, signed or unsigned): 1 written, 0 out
 * of range. */
static int
write_integer(Writer *w, PyObject *number)
{
    int overflow;
    long long value = PyLong_AsLongLongAndOverflow(number, &overflow);
    if (value == -1 && PyErr_Occurred()) {
        return -1;
    }
    if (overflow == 0) {
        unsigned long long magnitude = value < 0 ? 0ULL - (unsigned long long)value : (unsigned long long)value;
        return write_unsigned(w, magnitude, value < 0) < 0 ? -1 : 1;
    }
    if (overflow < 0) {
        return 0;
    }
    unsigned long long large = PyLong_AsUnsignedLongLong(number);
    if (large == (unsigned long long)-1 && PyErr_Occurred()) {
        if (PyErr_ExceptionMatches(PyExc_OverflowError)) {
            PyErr_Clear();
            return 0;
        }
        return -1;
    }
    return write_unsigned(w, large, 0) < 0 ? -1 : 1;
}

/* A finite double as orjson writes it: the shortest digits that read back the same (repr's),
 * laid out as Python's repr, except that exponents have no zero padding ("1e-7", "1e+16") and a
 * decimal exponent of -5 is written out ("0.00001"). tests/test_speedups.py checks it against the
 * pinned orjson on 400,000 doubles; another orjson release may lay some out otherwise, as the same
 * JSON number. */
static int
write_float(Writer *w, double value)
{
    char *text = PyOS_double_to_string(value, 'r', 0, Py_DTSF_ADD_DOT_0, NULL);
    if (text == NULL) {
        return -1;
    }
    int result = 0;
    char *exponent_mark = strchr(text, 'e');
    if (exponent_mark == NULL) {
        result = write_bytes(w, text, (Py_ssize_t)strlen(text));
    }
    else {
        int exponent = atoi(exponent_mark + 1);
        char *mantissa = text;
        if (exponent == -5) {
            if (*mantissa == '-') {
                result |= WRITE_LITERAL(w, "-");
                mantissa++;
            }
            result |= WRITE_LITERAL(w, "0.0000");
            for (char *p = mantissa; p < exponent_mark; p++) {
                if (*p != '.') {
                    result |= write_bytes(w, p, 1);
                }
            }
        }
        else {
            result |= write_bytes(w, mantissa, exponent_mark - mantissa);
            result |= exponent > 0 ? WRITE_LITERAL(w, "e+") : WRITE_LITERAL(w, "e-");
            result |= write_unsigned(w, (unsigned long long)(exponent > 0 ? exponent : -exponent), 0);
        }
    }
    PyMem_Free(text);
    return result < 0 ? -1 : 1;
}

/* A string of 1..max_length code points (the contract counts characters, as len() does). */
static inline int
is_text(PyObject *value, Py_ssize_t max_length)
{
    if (!PyUnicode_CheckExact(value)) {
        return 0;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    return length >= 1 && length <= max_length;
}

static inline int
is_optional_text(PyObject *value, Py_ssize_t max_length)
{
    return value == NULL || value == Py_None || is_text(value, max_length);
}

static inline const char *
ascii_of(PyObject *value, Py_ssize_t length)
{
    if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value) || PyUnicode_GET_LENGTH(value) != length) {
        return NULL;
    }
    return (const char *)PyUnicode_DATA(value);
}

static inline int
is_lower_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
}

static inline int
is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* CANONICAL_UUID_PATTERN: 8-4-4-4-12 lowercase hex digits. */
static int
is_canonical_uuid(PyObject *value)
{
    const char *text = ascii_of(value, 36);
    if (text == NULL) {
        return 0;
    }
    for (int i = 0; i < 36; i++) {
        if (i == 8 || i == 13 || i == 18 || i == 23) {
            if (text[i] != '-') {
                return 0;
            }
        }
        else if (!is_lower_hex(text[i])) {
            return 0;
        }
    }
    return 1;
}

static int
two_digits(const char *text)
{
    return (text[0] - '0') * 10 + (text[1] - '0');
}

/* CANONICAL_TIMESTAMP_PATTERN, with a date and time that datetime.fromisoformat accepts. */
static int
is_canonical_timestamp(PyObject *value)
{
    static const char shape[] = "dddd-dd-ddTdd:dd:dd.ddddddZ";
    static const int days_in_month[13] = {0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    const char *text = ascii_of(value, 27);
    if (text == NULL) {
        return 0;
    }
    for (int i = 0; i < 27; i++) {
        if (shape[i] == 'd' ? !is_digit(text[i]) : text[i] != shape[i]) {
            return 0;
        }
    }
    int year = two_digits(text) * 100 + two_digits(text + 2);
    int month = two_digits(text + 5);
    int day = two_digits(text + 8);
    if (year < 1 || month < 1 || month > 12 || day < 1) {
        return 0;
    }
    int leap = (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
    int month_days = days_in_month[month] + (month == 2 && leap);
    return day <= month_days && two_digits(text + 11) <= 23 && two_digits(text + 14) <= 59 &&
           two_digits(text + 17) <= 59;
}

/* EVENT_TYPE_PATTERN: a lowercase letter, then lowercase letters, digits and underscores. */
static int
is_event_type(PyObject *value)
{
    if (!PyUnicode_CheckExact(value) || !PyUnicode_IS_ASCII(value)) {
        return 0;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    const char *text = (const char *)PyUnicode_DATA(value);
    if (length < 1 || length > contract.max_event_type_length || text[0] < 'a' || text[0] > 'z') {
        return 0;
    }
    for (Py_ssize_t i = 1; i < length; i++) {
        char c = text[i];
        if (!((c >= 'a' && c <= 'z') || is_digit(c) || c == '_')) {
            return 0;
        }
    }
    return 1;
}

/* A dotted-quad IPv4 address without leading zeros, as the Python check's regular expression. */
static int
is_ipv4(const char *text, Py_ssize_t length)
{
    const char *p = text;
    const char *stop = text + length;
    for (int octet = 0; octet < 4; octet++) {
        if (octet > 0) {
            if (p == stop || *p != '.') {
                return 0;
            }
            p++;
        }
        const char *start = p;
        int value = 0;
        while (p < stop && is_digit(*p) && p - start < 3) {
            value = value * 10 + (*p - '0');
            p++;
        }
        Py_ssize_t digits = p - start;
        if (digits == 0 || (digits > 1 && *start == '0') || value > 255) {
            return 0;
        }
    }
    return p == stop;
}

/* IPv4 as above, or a Pseudonymizer pseudonym ("hmac:" and 32 lowercase hex digits). */
static int
is_ipv4_or_pseudonym(PyObject *value)
{
    if (!PyUnicode_IS_ASCII(value)) {
        return 0;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(value);
    const char *text = (const char *)PyUnicode_DATA(value);
    if (length == 37 && memcmp(text, "hmac:", 5) == 0) {
        for (int i = 5; i < 37; i++) {
            if (!is_lower_hex(text[i])) {
                return 0;
            }
        }
        return 1;
    }
    return is_ipv4(text, length);
}

static int
is_status(PyObject *value)
{
    if (value == NULL || value == Py_None) {
        return 1;
    }
    if (PyLong_CheckExact(value)) {
        int overflow;
        long code = PyLong_AsLongAndOverflow(value, &overflow);
        return !overflow && code >= contract.min_status_code && code <= contract.max_status_code;
    }
    return is_text(value, contract.max_outcome_length);
}

/* A value or null. */
static int
write_optional_string(Writer *w, PyObject *value)
{
    if (value == NULL || value == Py_None) {
        return WRITE_LITERAL(w, "null") < 0 ? -1 : 1;
    }
    return write_string(w, value);
}

/* The properties object: 1 written, 0 not sure, -1 out of room or a Python error. */
static int
write_properties(Writer *w, PyObject *properties)
{
    if (properties == NULL || properties == Py_None) {
        return WRITE_LITERAL(w, "{}") < 0 ? -1 : 1;
    }
    if (!PyDict_CheckExact(properties) || PyDict_GET_SIZE(properties) > contract.max_properties) {
        return 0;
    }
    if (WRITE_LITERAL(w, "{") < 0) {
        return -1;
    }
    Py_ssize_t position = 0;
    PyObject *key, *item;
    int first = 1;
    while (PyDict_Next(properties, &position, &key, &item)) {
        if (!is_text(key, contract.max_property_key_length)) {
            return 0;
        }
        if (!first && WRITE_LITERAL(w, ",") < 0) {
            return -1;
        }
        first = 0;
        int written = write_string(w, key);
        if (written <= 0) {
            return written;
        }
        if (WRITE_LITERAL(w, ":") < 0) {
            return -1;
        }
        if (item == Py_None) {
            written = WRITE_LITERAL(w, "null") < 0 ? -1 : 1;
        }
        else if (item == Py_True) {
            written = WRITE_LITERAL(w, "true") < 0 ? -1 : 1;
        }
        else if (item == Py_False) {
            written = WRITE_LITERAL(w, "false") < 0 ? -1 : 1;
        }
        else if (PyUnicode_CheckExact(item)) {
            written = write_string(w, item);
        }
        else if (PyLong_CheckExact(item)) {
            written = write_integer(w, item);
        }
        else if (PyFloat_CheckExact(item)) {
            double number = PyFloat_AS_DOUBLE(item);
            written = isfinite(number) ? write_float(w, number) : 0;
        }
        else {
            written = 0;
        }
        if (written <= 0) {
            return written;
        }
    }
    return WRITE_LITERAL(w, "}") < 0 ? -1 : 1;
}

/* Which field a key names, or -1. Keys written in code are interned, so the same object as the
 * contract's name; other equal strings are compared by content. */
static int
field_index(PyObject *key)
{
    for (int i = 0; i < FIELD_COUNT; i++) {
        if (key == contract.fields[i]) {
            return i;
        }
    }
    if (!PyUnicode_CheckExact(key) || !PyUnicode_IS_ASCII(key)) {
        return -1;
    }
    Py_ssize_t length = PyUnicode_GET_LENGTH(key);
    for (int i = 0; i < FIELD_COUNT; i++) {
        PyObject *name = contract.fields[i];
        if (PyUnicode_GET_LENGTH(name) == length && memcmp(PyUnicode_DATA(name), PyUnicode_DATA(key), (size_t)length) == 0) {
            return i;
        }
    }
    return -1;
}

/* The event's fields, in wire order, as strong references (NULL where absent); 0 when the event
 * has a key the contract does not know. One pass over the dict's entries, which costs a fraction
 * of eleven lookups; no Python code runs during it. */
static int
read_fields(PyObject *raw, PyObject *values[FIELD_COUNT])
{
    Py_ssize_t position = 0;
    PyObject *key, *value;
    while (PyDict_Next(raw, &position, &key, &value)) {
        int index = field_index(key);
        if (index < 0 || values[index] != NULL) {
            return 0; /* the caller releases what was read so far */
        }
        values[index] = Py_NewRef(value);
    }
    return 1;
}

static int
has_canonical_shapes(PyObject *values[FIELD_COUNT])
{
    PyObject *version = values[F_SCHEMA_VERSION];
    if (version != NULL) {
        int overflow;
        if (!PyLong_CheckExact(version) || PyLong_AsLongAndOverflow(version, &overflow) != contract.schema_version ||
            overflow) {
            return 0;
        }
    }
    PyObject *ip = values[F_IP];
    if (!(values[F_EVENT_ID] != NULL && is_canonical_uuid(values[F_EVENT_ID]) && values[F_OCCURRED_AT] != NULL &&
          is_canonical_timestamp(values[F_OCCURRED_AT]) && values[F_EVENT_TYPE] != NULL &&
          is_event_type(values[F_EVENT_TYPE]) && values[F_USER_ID] != NULL &&
          is_text(values[F_USER_ID], contract.max_id_length) &&
          is_optional_text(values[F_SESSION_ID], contract.max_id_length) &&
          (ip == NULL || ip == Py_None || PyUnicode_CheckExact(ip)) &&
          is_optional_text(values[F_USER_AGENT], contract.max_user_agent_length) &&
          is_optional_text(values[F_RESOURCE], contract.max_resource_length) && is_status(values[F_STATUS]))) {
        return 0;
    }
    if (ip == NULL || ip == Py_None || is_ipv4_or_pseudonym(ip)) {
        return 1;
    }
    /* Anything else (IPv6 has many spellings) is left to the Python check, memoized there, called
     * through a reference of our own: the call could reconfigure, and so release the configured one. */
    PyObject *check = Py_NewRef(contract.is_ip_or_pseudonym);
    PyObject *verdict = PyObject_CallOneArg(check, ip);
    Py_DECREF(check);
    if (verdict == NULL) {
        return -1;
    }
    int truth = PyObject_IsTrue(verdict);
    Py_DECREF(verdict);
    return truth;
}

/* 1 written, 0 not sure, -1 out of room or a Python error. */
static int
write_event(Writer *w, PyObject *values[FIELD_COUNT], char **properties_start)
{
#define KEY(text) {text, sizeof(text) - 1}
    static const struct {
        const char *text;
        Py_ssize_t length;
    } keys[FIELD_COUNT] = {
        KEY("{\"schema_version\":"), KEY(",\"event_id\":"),   KEY(",\"occurred_at\":"), KEY(",\"event_type\":"),
        KEY(",\"user_id\":"),        KEY(",\"session_id\":"), KEY(",\"ip\":"),          KEY(",\"user_agent\":"),
        KEY(",\"resource\":"),       KEY(",\"status\":"),     KEY(",\"properties\":"),
    };
#undef KEY
    int written;
    if (write_bytes(w, keys[0].text, keys[0].length) < 0 ||
        write_unsigned(w, (unsigned long long)contract.schema_version, 0) < 0) {
        return -1;
    }
    for (int i = F_EVENT_ID; i <= F_STATUS; i++) {
        if (write_bytes(w, keys[i].text, keys[i].length) < 0) {
            return -1;
        }
        PyObject *value = values[i];
        if (i == F_STATUS && value != NULL && PyLong_CheckExact(value)) {
            written = write_integer(w, value);
        }
        else {
            written = write_optional_string(w, value);
        }
        if (written <= 0) {
            return written;
        }
    }
    if (write_bytes(w, keys[F_PROPERTIES].text, keys[F_PROPERTIES].length) < 0) {
        return -1;
    }
    *properties_start = w->pos;
    written = write_properties(w, values[F_PROPERTIES]);
    if (written <= 0) {
        return written;
    }
    return WRITE_LITERAL(w, "}") < 0 ? -1 : 1;
}

/* event_id and occurred_at where absent or None, from the functions normalize_event uses. */
static int
generate_missing_fields(PyObject *values[FIELD_COUNT])
{
    static const int generated[2] = {F_EVENT_ID, F_OCCURRED_AT};
    for (int i = 0; i < 2; i++) {
        PyObject **value = &values[generated[i]];
        if (*value == NULL || *value == Py_None) {
            PyObject *make = Py_NewRef(i == 0 ? contract.new_event_id : contract.now);
            PyObject *made = PyObject_CallNoArgs(make);
            Py_DECREF(make);
            if (made == NULL) {
                return -1;
            }
            Py_XSETREF(*value, made);
        }
    }
    return 1;
}

/* Reads and encodes raw. Returns 1 with *data set, 0 not sure (the Python path decides), -1 a
 * Python error. values[] holds strong references for the caller to release. */
static int
encode_fields(PyObject *raw, PyObject *values[FIELD_COUNT], PyObject **data)
{
    if (!contract.configured) {
        PyErr_SetString(PyExc_RuntimeError, "vedette._speedups.configure_events() was not called");
        return -1;
    }
    if (!PyDict_CheckExact(raw)) {
        return 0;
    }
    int state = read_fields(raw, values);
    if (state > 0) {
        state = generate_missing_fields(values);
    }
    if (state > 0) {
        state = has_canonical_shapes(values);
    }
    if (state <= 0) {
        return state;
    }
    char buffer[EVENT_BUFFER_BYTES];
    /* One byte past the limit tells "too large" apart from "exactly the limit". */
    Writer w = {buffer, buffer + contract.max_event_bytes + 1};
    char *properties_start = buffer;
    state = write_event(&w, values, &properties_start);
    if (state < 0) {
        return PyErr_Occurred() ? -1 : 0; /* out of room: too large, which the Python path reports */
    }
    Py_ssize_t length = w.pos - buffer;
    /* The properties' own JSON lies between "properties": and the event's closing brace. */
    Py_ssize_t properties_length = w.pos - 1 - properties_start;
    if (state == 0 || length > contract.max_event_bytes || properties_length > contract.max_properties_bytes) {
        return 0;
    }
    *data = PyBytes_FromStringAndSize(buffer, length);
    return *data == NULL ? -1 : 1;
}

static void
release_fields(PyObject *values[FIELD_COUNT])
{
    for (int i = 0; i < FIELD_COUNT; i++) {
        Py_XDECREF(values[i]);
    }
}

static PyObject *
encode_canonical_event(PyObject *Py_UNUSED(module), PyObject *raw)
{
    PyObject *values[FIELD_COUNT] = {NULL};
    PyObject *data = NULL;
    int state = encode_fields(raw, values, &data);
    release_fields(values);
    if (state < 0) {
        return NULL;
    }
    if (state == 0) {
        Py_RETURN_NONE;
    }
    return data;
}

static PyObject *
configure_events(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {
        "fields",
        "schema_version",
        "is_ip_or_pseudonym",
        "new_event_id",
        "now",
        "max_event_bytes",
        "max_properties_bytes",
        "max_properties",
        "max_property_key_length",
        "max_id_length",
        "max_user_agent_length",
        "max_resource_length",
        "max_outcome_length",
        "max_event_type_length",
        "min_status_code",
        "max_status_code",
        NULL,
    };
    PyObject *fields, *is_ip, *new_event_id, *now;
    EventContract next = {0};
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!lO$OOnnnnnnnnnll", keywords, &PyTuple_Type, &fields,
                                     &next.schema_version, &is_ip, &new_event_id, &now, &next.max_event_bytes,
                                     &next.max_properties_bytes, &next.max_properties,
                                     &next.max_property_key_length, &next.max_id_length,
                                     &next.max_user_agent_length, &next.max_resource_length,
                                     &next.max_outcome_length, &next.max_event_type_length, &next.min_status_code,
                                     &next.max_status_code)) {
        return NULL;
    }
    if (PyTuple_GET_SIZE(fields) != FIELD_COUNT) {
        PyErr_Format(PyExc_ValueError, "expected %d fields", FIELD_COUNT);
        return NULL;
    }
    if (next.max_event_bytes < 2 || next.max_event_bytes >= EVENT_BUFFER_BYTES) {
        PyErr_Format(PyExc_ValueError, "max_event_bytes must be below %d", EVENT_BUFFER_BYTES);
        return NULL;
    }
    if (!PyCallable_Check(is_ip) || !PyCallable_Check(new_event_id) || !PyCallable_Check(now)) {
        PyErr_SetString(PyExc_TypeError, "is_ip_or_pseudonym, new_event_id and now must be callable");
        return NULL;
    }
    static const char *const wire_order[FIELD_COUNT] = {
        "schema_version", "event_id", "occurred_at", "event_type", "user_id", "session_id",
        "ip",             "user_agent", "resource",  "status",     "properties",
    };
    for (int i = 0; i < FIELD_COUNT; i++) {
        PyObject *name = PyTuple_GET_ITEM(fields, i);
        if (!PyUnicode_Check(name) || PyUnicode_CompareWithASCIIString(name, wire_order[i]) != 0) {
            PyErr_Format(PyExc_ValueError, "field %d must be %s", i, wire_order[i]);
            return NULL;
        }
    }
    for (int i = 0; i < FIELD_COUNT; i++) {
        PyObject *name = PyTuple_GET_ITEM(fields, i);
        Py_INCREF(name);
        PyUnicode_InternInPlace(&name);
        next.fields[i] = name;
    }
    next.is_ip_or_pseudonym = Py_NewRef(is_ip);
    next.new_event_id = Py_NewRef(new_event_id);
    next.now = Py_NewRef(now);
    next.configured = 1;
    EventContract previous = contract;
    contract = next;
    if (previous.configured) {
        for (int i = 0; i < FIELD_COUNT; i++) {
            Py_DECREF(previous.fields[i]);
        }
        Py_DECREF(previous.is_ip_or_pseudonym);
        Py_DECREF(previous.new_event_id);
        Py_DECREF(previous.now);
    }
    Py_RETURN_NONE;
}

/* ------------------------------------------------------------------------------------------ */
/* KPL aggregation                                                                             */

static const char KPL_MAGIC[4] = {'\xf3', '\x89', '\x9a', '\xc2'};
#define KPL_DIGEST_BYTES 16
#define KPL_FRAMING_BYTES (4 + KPL_DIGEST_BYTES)
#define TAG_PARTITION_KEY 0x0a /* AggregatedRecord.partition_key_table, LEN */
#define TAG_KEY_INDEX 0x08     /* Record.partition_key_index, VARINT */
#define TAG_LENGTH 0x1a        /* AggregatedRecord.records and Record.data, both LEN */

static PyObject *md5_constructor; /* hashlib.md5 */

typedef struct {
    char *data;
    Py_ssize_t length;
    Py_ssize_t capacity;
} Buffer;

static int
buffer_reserve(Buffer *buffer, Py_ssize_t extra)
{
    if (buffer->capacity - buffer->length >= extra) {
        return 0;
    }
    if (extra > PY_SSIZE_T_MAX - buffer->length) {
        PyErr_NoMemory();
        return -1;
    }
    Py_ssize_t needed = buffer->length + extra;
    Py_ssize_t capacity = buffer->capacity ? buffer->capacity : 4096;
    while (capacity < needed) {
        capacity = capacity > PY_SSIZE_T_MAX / 2 ? needed : capacity * 2;
    }
    char *data = PyMem_Realloc(buffer->data, (size_t)capacity);
    if (data == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    buffer->data = data;
    buffer->capacity = capacity;
    return 0;
}

static inline int
varint(unsigned char *out, unsigned long long value)
{
    int length = 0;
    while (value > 0x7F) {
        out[length++] = (unsigned char)((value & 0x7F) | 0x80);
        value >>= 7;
    }
    out[length++] = (unsigned char)value;
    return length;
}

typedef struct {
    PyObject_HEAD
    Py_ssize_t max_bytes;
    Py_ssize_t size;
    Py_ssize_t count;
    PyObject *partition_key;
    PyObject *key_index; /* partition key -> its index in the key table */
    Buffer keys;
    Buffer records;
} AggregateBuilder;

/* KPL_AGGREGATION_MAX_BYTES, the Python builder's default too (tests/test_kpl.py checks). */
#define DEFAULT_MAX_BYTES 51200
/* An aggregate's records buffer is sized at once up to this (the largest Kinesis record). */
#define RECORDS_PRESIZE_LIMIT (1024 * 1024)

/* Empty, with the default budget: a builder is usable even if __init__ is never called. */
static int
builder_reset(AggregateBuilder *self, Py_ssize_t max_bytes)
{
    PyObject *key_index = PyDict_New();
    if (key_index == NULL) {
        return -1;
    }
    self->max_bytes = max_bytes;
    self->size = 0;
    self->count = 0;
    Py_XSETREF(self->partition_key, Py_NewRef(empty_string));
    Py_XSETREF(self->key_index, key_index);
    self->keys.length = 0;
    self->records.length = 0;
    return 0;
}

static PyObject *
builder_new(PyTypeObject *type, PyObject *Py_UNUSED(args), PyObject *Py_UNUSED(kwargs))
{
    AggregateBuilder *self = (AggregateBuilder *)type->tp_alloc(type, 0);
    if (self != NULL && builder_reset(self, DEFAULT_MAX_BYTES) < 0) {
        Py_CLEAR(self);
    }
    return (PyObject *)self;
}

static int
builder_init(AggregateBuilder *self, PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {"max_bytes", NULL};
    Py_ssize_t max_bytes = DEFAULT_MAX_BYTES;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "|n", keywords, &max_bytes)) {
        return -1;
    }
    return builder_reset(self, max_bytes);
}

static void
builder_dealloc(AggregateBuilder *self)
{
    Py_XDECREF(self->partition_key);
    Py_XDECREF(self->key_index);
    PyMem_Free(self->keys.data);
    PyMem_Free(self->records.data);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyObject *
builder_try_add(AggregateBuilder *self, PyObject *const *args, Py_ssize_t nargs)
{
    /* An exact str hashes and compares without running Python code, so nothing below can re-enter
     * the builder between reserving room and filling it. */
    if (nargs != 2 || !PyUnicode_CheckExact(args[0]) || !PyBytes_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "try_add(partition_key: str, data: bytes), a str of no subclass");
        return NULL;
    }
    PyObject *partition_key = args[0];
    Py_ssize_t data_length = PyBytes_GET_SIZE(args[1]);

    unsigned char key_field[1 + 10];
    int key_field_length = 0;
    const char *encoded_key = NULL;
    Py_ssize_t encoded_key_length = 0;
    Py_ssize_t index;
    PyObject *known = PyDict_GetItemWithError(self->key_index, partition_key);
    if (known != NULL) {
        index = PyLong_AsSsize_t(known);
    }
    else {
        if (PyErr_Occurred()) {
            return NULL;
        }
        index = PyDict_GET_SIZE(self->key_index);
        encoded_key = PyUnicode_AsUTF8AndSize(partition_key, &encoded_key_length);
        if (encoded_key == NULL) {
            return NULL;
        }
        key_field[0] = TAG_PARTITION_KEY;
        key_field_length = 1 + varint(key_field + 1, (unsigned long long)encoded_key_length);
    }
    /* Record { partition_key_index = index; data = data }, framed as AggregatedRecord.records. */
    unsigned char header[1 + 10 + 1 + 10];
    int header_length = 0;
    header[header_length++] = TAG_KEY_INDEX;
    header_length += varint(header + header_length, (unsigned long long)index);
    header[header_length++] = TAG_LENGTH;
    header_length += varint(header + header_length, (unsigned long long)data_length);
    unsigned char record_field[1 + 10];
    record_field[0] = TAG_LENGTH;
    int record_field_length = 1 + varint(record_field + 1, (unsigned long long)(header_length + data_length));
    Py_ssize_t key_chunk = encoded_key != NULL ? key_field_length + encoded_key_length : 0;
    Py_ssize_t record_length = record_field_length + header_length + data_length;
    Py_ssize_t added = key_chunk + record_length;

    if (self->count == 0) {
        /* An empty builder always accepts one record: alone, it may be sent without framing. */
        Py_INCREF(partition_key);
        Py_SETREF(self->partition_key, partition_key);
        self->size = KPL_FRAMING_BYTES + encoded_key_length;
    }
    else if (self->size + added > self->max_bytes) {
        Py_RETURN_FALSE;
    }
    /* From the second record on, an aggregate is likely to fill up: its buffer is sized for that at
     * once rather than grown by copying (a lone record, as without aggregation, takes what it needs). */
    Py_ssize_t presize = self->count == 1 ? Py_MIN(self->max_bytes, RECORDS_PRESIZE_LIMIT) - self->records.length : 0;
    if (buffer_reserve(&self->keys, key_chunk) < 0 ||
        buffer_reserve(&self->records, Py_MAX(record_length, presize)) < 0) {
        return NULL;
    }
    if (encoded_key != NULL) {
        PyObject *number = PyLong_FromSsize_t(index);
        if (number == NULL || PyDict_SetItem(self->key_index, partition_key, number) < 0) {
            Py_XDECREF(number);
            return NULL;
        }
        Py_DECREF(number);
        memcpy(self->keys.data + self->keys.length, key_field, (size_t)key_field_length);
        memcpy(self->keys.data + self->keys.length + key_field_length, encoded_key, (size_t)encoded_key_length);
        self->keys.length += key_chunk;
    }
    char *out = self->records.data + self->records.length;
    memcpy(out, record_field, (size_t)record_field_length);
    memcpy(out + record_field_length, header, (size_t)header_length);
    memcpy(out + record_field_length + header_length, PyBytes_AS_STRING(args[1]), (size_t)data_length);
    self->records.length += record_length;
    self->size += added;
    self->count += 1;
    Py_RETURN_TRUE;
}

static PyObject *
builder_build(AggregateBuilder *self, PyObject *Py_UNUSED(ignored))
{
    Py_ssize_t body_length = self->keys.length + self->records.length;
    PyObject *record = PyBytes_FromStringAndSize(NULL, 4 + body_length + KPL_DIGEST_BYTES);
    if (record == NULL) {
        return NULL;
    }
    char *out = PyBytes_AS_STRING(record);
    memcpy(out, KPL_MAGIC, 4);
    if (self->keys.length) {
        memcpy(out + 4, self->keys.data, (size_t)self->keys.length);
    }
    if (self->records.length) {
        memcpy(out + 4 + self->keys.length, self->records.data, (size_t)self->records.length);
    }
    PyObject *body = PyMemoryView_FromMemory(out + 4, body_length, PyBUF_READ);
    PyObject *hash = body != NULL ? PyObject_CallOneArg(md5_constructor, body) : NULL;
    Py_XDECREF(body);
    PyObject *digest = hash != NULL ? PyObject_CallMethod(hash, "digest", NULL) : NULL;
    Py_XDECREF(hash);
    if (digest == NULL || !PyBytes_Check(digest) || PyBytes_GET_SIZE(digest) != KPL_DIGEST_BYTES) {
        if (digest != NULL) {
            PyErr_SetString(PyExc_RuntimeError, "hashlib.md5 gave an unexpected digest");
        }
        Py_XDECREF(digest);
        Py_DECREF(record);
        return NULL;
    }
    memcpy(out + 4 + body_length, PyBytes_AS_STRING(digest), KPL_DIGEST_BYTES);
    Py_DECREF(digest);
    return record;
}

static PyMethodDef builder_methods[] = {
    {"try_add", (PyCFunction)(void (*)(void))builder_try_add, METH_FASTCALL,
     "Add a user record if it fits; an empty builder always accepts one (it may be sent raw)."},
    {"build", (PyCFunction)builder_build, METH_NOARGS, "The aggregated record's data: magic, protobuf body, MD5 digest."},
    {NULL, NULL, 0, NULL},
};

static PyMemberDef builder_members[] = {
    {"max_bytes", T_PYSSIZET, offsetof(AggregateBuilder, max_bytes), READONLY, NULL},
    {"size", T_PYSSIZET, offsetof(AggregateBuilder, size), READONLY,
     "Exact size of the Kinesis record if built now (data plus the outer partition key)."},
    {"count", T_PYSSIZET, offsetof(AggregateBuilder, count), READONLY, NULL},
    {"partition_key", T_OBJECT, offsetof(AggregateBuilder, partition_key), READONLY,
     "The first user record's partition key, sent as the aggregate's."},
    {NULL, 0, 0, 0, NULL},
};

static PyTypeObject AggregateBuilderType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "vedette._speedups.AggregateBuilder",
    .tp_basicsize = sizeof(AggregateBuilder),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "vedette.kpl.AggregateBuilder, with its buffers in C.",
    .tp_new = builder_new,
    .tp_init = (initproc)builder_init,
    .tp_dealloc = (destructor)builder_dealloc,
    .tp_methods = builder_methods,
    .tp_members = builder_members,
};

/* ------------------------------------------------------------------------------------------ */
/* Pending records                                                                             */

/* vedette.collector.PendingRecord, as a C struct, in two types with the same fields.
 *
 * Its objects are bytes, str, int and float, and the callback. Without a callback none can lead
 * back to the record, so PendingRecord is not a garbage-collected type at all: allocating one does
 * not count toward a collection, and a buffer of pending events costs the collections nothing.
 * A record with a callback is a CallbackPendingRecord, which the collector tracks, as a cycle may
 * pass through the callback. */
typedef struct {
    PyObject_HEAD
    PyObject *data;
    PyObject *partition_key;
    PyObject *hash_key;
    PyObject *event_id;
    PyObject *callback;
    PyObject *last_error;
    double enqueued_at;
    double deadline;
    Py_ssize_t attempts;
} PendingRecord;

static PyTypeObject PendingRecordType;
static PyTypeObject CallbackPendingRecordType;

static PyObject *
new_pending_record(PyObject *data, PyObject *partition_key, PyObject *hash_key, PyObject *event_id,
                   PyObject *callback, double enqueued_at, double deadline)
{
    PendingRecord *self;
    if (callback == Py_None) {
        self = PyObject_New(PendingRecord, &PendingRecordType);
    }
    else {
        self = PyObject_GC_New(PendingRecord, &CallbackPendingRecordType);
    }
    if (self == NULL) {
        return NULL;
    }
    self->data = Py_NewRef(data);
    self->partition_key = Py_NewRef(partition_key);
    self->hash_key = Py_NewRef(hash_key);
    self->event_id = Py_NewRef(event_id);
    self->callback = Py_NewRef(callback);
    self->last_error = Py_NewRef(empty_string);
    self->enqueued_at = enqueued_at;
    self->deadline = deadline;
    self->attempts = 0;
    if (callback != Py_None) {
        PyObject_GC_Track(self);
    }
    return (PyObject *)self;
}

/* PendingRecord(...) makes either type, by whether there is a callback. */
static PyObject *
pending_record_new(PyTypeObject *Py_UNUSED(type), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {
        "data", "partition_key", "hash_key", "event_id", "callback", "enqueued_at", "deadline", NULL,
    };
    PyObject *data, *partition_key, *hash_key, *event_id, *callback;
    double enqueued_at, deadline;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!O!O!O!Odd", keywords, &PyBytes_Type, &data, &PyUnicode_Type,
                                     &partition_key, &PyLong_Type, &hash_key, &PyUnicode_Type, &event_id, &callback,
                                     &enqueued_at, &deadline)) {
        return NULL;
    }
    /* Exact types: no field but the callback may hold anything that could lead back to the record. */
    if (!PyBytes_CheckExact(data) || !PyUnicode_CheckExact(partition_key) || !PyLong_CheckExact(hash_key) ||
        !PyUnicode_CheckExact(event_id)) {
        PyErr_SetString(PyExc_TypeError, "PendingRecord takes bytes, str, int and str, not subclasses");
        return NULL;
    }
    return new_pending_record(data, partition_key, hash_key, event_id, callback, enqueued_at, deadline);
}

static int
pending_record_traverse(PendingRecord *self, visitproc visit, void *arg)
{
    Py_VISIT(self->callback);
    return 0;
}

static void
pending_record_release(PendingRecord *self)
{
    Py_CLEAR(self->data);
    Py_CLEAR(self->partition_key);
    Py_CLEAR(self->hash_key);
    Py_CLEAR(self->event_id);
    Py_CLEAR(self->callback);
    Py_CLEAR(self->last_error);
}

static int
pending_record_clear(PendingRecord *self)
{
    Py_CLEAR(self->callback);
    return 0;
}

static void
pending_record_dealloc(PendingRecord *self)
{
    pending_record_release(self);
    PyObject_Free(self);
}

static void
callback_pending_record_dealloc(PendingRecord *self)
{
    PyObject_GC_UnTrack(self);
    pending_record_release(self);
    PyObject_GC_Del(self);
}

static int
pending_record_set_last_error(PendingRecord *self, PyObject *value, void *Py_UNUSED(closure))
{
    if (value == NULL || !PyUnicode_CheckExact(value)) {
        PyErr_SetString(PyExc_TypeError, "last_error must be a str");
        return -1;
    }
    Py_SETREF(self->last_error, Py_NewRef(value));
    return 0;
}

static PyObject *
pending_record_get_last_error(PendingRecord *self, void *Py_UNUSED(closure))
{
    return Py_NewRef(self->last_error);
}

/* All read-only but the two the sender updates: no field can be set to an object that leads back. */
static PyMemberDef pending_record_members[] = {
    {"data", T_OBJECT_EX, offsetof(PendingRecord, data), READONLY, NULL},
    {"partition_key", T_OBJECT_EX, offsetof(PendingRecord, partition_key), READONLY, NULL},
    {"hash_key", T_OBJECT_EX, offsetof(PendingRecord, hash_key), READONLY, NULL},
    {"event_id", T_OBJECT_EX, offsetof(PendingRecord, event_id), READONLY, NULL},
    {"callback", T_OBJECT, offsetof(PendingRecord, callback), READONLY, NULL},
    {"enqueued_at", T_DOUBLE, offsetof(PendingRecord, enqueued_at), READONLY, NULL},
    {"deadline", T_DOUBLE, offsetof(PendingRecord, deadline), READONLY, NULL},
    {"attempts", T_PYSSIZET, offsetof(PendingRecord, attempts), 0, NULL},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef pending_record_getset[] = {
    {"last_error", (getter)pending_record_get_last_error, (setter)pending_record_set_last_error, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject PendingRecordType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "vedette._speedups.PendingRecord",
    .tp_basicsize = sizeof(PendingRecord),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "vedette.collector.PendingRecord, as a C struct (a CallbackPendingRecord if it has a callback).",
    .tp_new = pending_record_new,
    .tp_dealloc = (destructor)pending_record_dealloc,
    .tp_members = pending_record_members,
    .tp_getset = pending_record_getset,
};

static PyTypeObject CallbackPendingRecordType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "vedette._speedups.CallbackPendingRecord",
    .tp_basicsize = sizeof(PendingRecord),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "A PendingRecord with a delivery callback, which the garbage collector tracks.",
    .tp_dealloc = (destructor)callback_pending_record_dealloc,
    .tp_traverse = (traverseproc)pending_record_traverse,
    .tp_clear = (inquiry)pending_record_clear,
    .tp_members = pending_record_members,
    .tp_getset = pending_record_getset,
};

typedef struct {
    int configured;
    PyObject *hash_key_memo;            /* vedette.shards' memo: partition key -> hash key */
    PyObject *cached_hash_key;          /* fills the memo on a miss */
    PyObject *prepare_record_in_python; /* the reference, for whatever the fast path is not sure of */
    Py_ssize_t max_partition_key_length;
} RecordSettings;

static RecordSettings record_settings;

static PyObject *
configure_records(PyObject *Py_UNUSED(module), PyObject *args, PyObject *kwargs)
{
    static char *keywords[] = {
        "hash_key_memo", "cached_hash_key", "prepare_record_in_python", "max_partition_key_length", NULL,
    };
    PyObject *memo, *function, *fallback;
    Py_ssize_t max_length;
    if (!PyArg_ParseTupleAndKeywords(args, kwargs, "O!$OOn", keywords, &PyDict_Type, &memo, &function, &fallback,
                                     &max_length)) {
        return NULL;
    }
    if (!PyCallable_Check(function) || !PyCallable_Check(fallback)) {
        PyErr_SetString(PyExc_TypeError, "cached_hash_key and prepare_record_in_python must be callable");
        return NULL;
    }
    Py_XSETREF(record_settings.hash_key_memo, Py_NewRef(memo));
    Py_XSETREF(record_settings.cached_hash_key, Py_NewRef(function));
    Py_XSETREF(record_settings.prepare_record_in_python, Py_NewRef(fallback));
    record_settings.max_partition_key_length = max_length;
    record_settings.configured = 1;
    Py_RETURN_NONE;
}

/* The pending record for an event encode_canonical_event accepts and a valid partition key; NULL
 * with an exception set on an error, NULL without one where the Python path must decide. */
static PyObject *
prepare_fast(PyObject *event, PyObject *partition_key, PyObject *on_delivery, double enqueued_at, double deadline)
{
    PyObject *values[FIELD_COUNT] = {NULL};
    PyObject *data = NULL;
    PyObject *record = NULL;
    int state = encode_fields(event, values, &data);
    if (state > 0) {
        PyObject *key = partition_key == Py_None ? values[F_USER_ID] : partition_key;
        if (is_text(key, record_settings.max_partition_key_length)) {
            PyObject *hash_key = PyDict_GetItemWithError(record_settings.hash_key_memo, key);
            Py_XINCREF(hash_key);
            if (hash_key == NULL && !PyErr_Occurred()) {
                PyObject *function = Py_NewRef(record_settings.cached_hash_key);
                hash_key = PyObject_CallOneArg(function, key);
                Py_DECREF(function);
            }
            if (hash_key != NULL && !PyLong_CheckExact(hash_key)) {
                Py_CLEAR(hash_key); /* not sure: a record may hold only an exact int (see above) */
            }
            if (hash_key != NULL) {
                record = new_pending_record(data, key, hash_key, values[F_EVENT_ID], on_delivery, enqueued_at, deadline);
                Py_DECREF(hash_key);
            }
        }
        Py_DECREF(data);
    }
    release_fields(values);
    return record;
}

static int
records_configured(void)
{
    if (!record_settings.configured) {
        PyErr_SetString(PyExc_RuntimeError, "vedette._speedups.configure_records() was not called");
    }
    return record_settings.configured;
}

static int
as_double(PyObject *number, double *out)
{
    *out = PyFloat_AsDouble(number);
    return *out == -1.0 && PyErr_Occurred() ? -1 : 0;
}

/* prepare_fast, with None where the Python path must decide. */
static PyObject *
prepare_canonical_record(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    double enqueued_at, deadline;
    if (nargs != 5) {
        PyErr_SetString(PyExc_TypeError,
                        "prepare_canonical_record(event, partition_key, on_delivery, enqueued_at, deadline)");
        return NULL;
    }
    if (!records_configured() || as_double(args[3], &enqueued_at) < 0 || as_double(args[4], &deadline) < 0) {
        return NULL;
    }
    PyObject *record = prepare_fast(args[0], args[1], args[2], enqueued_at, deadline);
    if (record != NULL || PyErr_Occurred()) {
        return record;
    }
    Py_RETURN_NONE;
}

/* vedette.producer.prepare_record: the fast path where it is sure, else the Python function. One
 * call from put either way, rather than a Python frame around this one. */
static PyObject *
prepare_record(PyObject *Py_UNUSED(module), PyObject *const *args, Py_ssize_t nargs)
{
    double now, ttl_seconds;
    if (nargs != 6) {
        PyErr_SetString(PyExc_TypeError,
                        "prepare_record(event, partition_key, on_delivery, pseudonymizer, now, ttl_seconds)");
        return NULL;
    }
    if (!records_configured()) {
        return NULL;
    }
    /* Times as put passes them (a float clock, a float or int time to live), for which the sum of
     * doubles is Python's sum; any other number is left to Python's arithmetic. */
    PyObject *now_object = args[4];
    PyObject *ttl_object = args[5];
    if (args[3] == Py_None && PyFloat_CheckExact(now_object) &&
        (PyFloat_CheckExact(ttl_object) || PyLong_CheckExact(ttl_object))) {
        now = PyFloat_AS_DOUBLE(now_object);
        if (as_double(ttl_object, &ttl_seconds) < 0) {
            return NULL; /* an int beyond a double's range: Python's sum raises OverflowError too */
        }
        PyObject *record = prepare_fast(args[0], args[1], args[2], now, now + ttl_seconds);
        if (record != NULL || PyErr_Occurred()) {
            return record;
        }
    }
    PyObject *fallback = Py_NewRef(record_settings.prepare_record_in_python);
    PyObject *record = PyObject_Vectorcall(fallback, args, (size_t)nargs, NULL);
    Py_DECREF(fallback);
    return record;
}

/* ------------------------------------------------------------------------------------------ */

static PyMethodDef module_methods[] = {
    {"encode_canonical_event", encode_canonical_event, METH_O,
     "encode_event(normalize_event(raw)) for an event already in canonical shapes; None otherwise."},
    {"configure_events", (PyCFunction)(void (*)(void))configure_events, METH_VARARGS | METH_KEYWORDS,
     "Set the contract's fields, limits and IP check (vedette.events does, once)."},
    {"prepare_canonical_record", (PyCFunction)(void (*)(void))prepare_canonical_record, METH_FASTCALL,
     "prepare_record for an event encode_canonical_event accepts; None otherwise."},
    {"prepare_record", (PyCFunction)(void (*)(void))prepare_record, METH_FASTCALL,
     "vedette.producer.prepare_record: the fast path where it is sure, else the Python function."},
    {"configure_records", (PyCFunction)(void (*)(void))configure_records, METH_VARARGS | METH_KEYWORDS,
     "Set the hash key memo, the Python prepare_record and the partition key limit (vedette.producer does)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef speedups_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = "vedette._speedups",
    .m_doc = "Compiled fast paths of vedette.events and vedette.kpl; the Python modules are the reference.",
    .m_size = -1,
    .m_methods = module_methods,
};

PyMODINIT_FUNC
PyInit__speedups(void)
{
    if (PyType_Ready(&AggregateBuilderType) < 0 || PyType_Ready(&PendingRecordType) < 0 ||
        PyType_Ready(&CallbackPendingRecordType) < 0) {
        return NULL;
    }
    empty_string = PyUnicode_FromString("");
    if (empty_string == NULL) {
        return NULL;
    }
    PyObject *hashlib = PyImport_ImportModule("hashlib");
    if (hashlib == NULL) {
        return NULL;
    }
    md5_constructor = PyObject_GetAttrString(hashlib, "md5");
    Py_DECREF(hashlib);
    if (md5_constructor == NULL) {
        return NULL;
    }
    PyObject *module = PyModule_Create(&speedups_module);
    if (module == NULL) {
        return NULL;
    }
    if (PyModule_AddObjectRef(module, "AggregateBuilder", (PyObject *)&AggregateBuilderType) < 0 ||
        PyModule_AddObjectRef(module, "PendingRecord", (PyObject *)&PendingRecordType) < 0 ||
        PyModule_AddObjectRef(module, "CallbackPendingRecord", (PyObject *)&CallbackPendingRecordType) < 0) {
        Py_DECREF(module);
        return NULL;
    }
    return module;
}
