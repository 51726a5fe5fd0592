/*
 * Unit tests for json.c: string escaping, UTF-8 repair and numbers.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "buf.h"
#include "json.h"

#define FFFD "\xef\xbf\xbd"

static struct buf b;

static int
setup(void **state)
{
	buf_init(&b);
	return 0;
}

static int
teardown(void **state)
{
	buf_release(&b);
	return 0;
}

static const char *
str(const char *s, size_t n)
{
	buf_reset(&b);
	json_add_string(&b, s, n);
	return b.data;
}

#define assert_json_str(in, want)                                              \
	assert_string_equal(str(in, sizeof in - 1), want)

static const char *
dbl(double v)
{
	buf_reset(&b);
	json_add_kv_double(&b, "v", v);
	return b.data + 4; /* after "v": */
}

static void
test_plain(void **state)
{
	assert_json_str("", "\"\"");
	assert_json_str("Sirte", "\"Sirte\"");
	assert_json_str("a/b'c", "\"a/b'c\"");
}

static void
test_escapes(void **state)
{
	assert_json_str("a\"b\\c", "\"a\\\"b\\\\c\"");
	assert_json_str("\n\t\r\b\f", "\"\\n\\t\\r\\b\\f\"");
	assert_json_str("\x01\x1f", "\"\\u0001\\u001f\"");
	assert_json_str("a\0b", "\"a\\u0000b\"");
	/* DEL is allowed as is. */
	assert_json_str("\x7f", "\"\x7f\"");
}

static void
test_utf8_kept(void **state)
{
	assert_json_str("Tr\xc3\xadpoli \xd8\xb3\xd8\xb1\xd8\xaa \xe2\x82\xac "
	                "\xf0\x9d\x84\x9e \xc2\xa0",
	    "\"Tr\xc3\xadpoli \xd8\xb3\xd8\xb1\xd8\xaa \xe2\x82\xac "
	    "\xf0\x9d\x84\x9e \xc2\xa0\"");
	/* The highest code point and the ones around the surrogates. */
	assert_json_str("\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80",
	    "\"\xf4\x8f\xbf\xbf\xed\x9f\xbf\xee\x80\x80\"");
}

static void
test_invalid_utf8_replaced(void **state)
{
	assert_json_str("a\xff"
	                "b",
	    "\"a" FFFD "b\"");
	/* Overlong forms. */
	assert_json_str("\xc0\xaf", "\"" FFFD FFFD "\"");
	assert_json_str("\xe0\x80\xaf", "\"" FFFD FFFD FFFD "\"");
	assert_json_str("\xf0\x80\x80\xaf", "\"" FFFD FFFD FFFD FFFD "\"");
	/* A surrogate, and past U+10FFFF. */
	assert_json_str("\xed\xa0\x80", "\"" FFFD FFFD FFFD "\"");
	assert_json_str("\xf4\x90\x80\x80", "\"" FFFD FFFD FFFD FFFD "\"");
	/* Truncated at the end, and a lead byte followed by ASCII. */
	assert_json_str("x\xe2\x82", "\"x" FFFD FFFD "\"");
	assert_json_str("\xe2z", "\"" FFFD "z\"");
	/* A lone continuation byte. */
	assert_json_str("\x80", "\"" FFFD "\"");
	/* A bad byte before an escape. */
	assert_json_str("\xfe\"", "\"" FFFD "\\\"\"");
}

static void
test_keys_and_values(void **state)
{
	json_add_key(&b, "a\"b");
	assert_string_equal(b.data, "\"a\\\"b\":");
	buf_reset(&b);
	json_add_kv_cstring(&b, "k", "v\n");
	assert_string_equal(b.data, "\"k\":\"v\\n\"");
	buf_reset(&b);
	json_add_kv_string(&b, "k", "abc", 2);
	assert_string_equal(b.data, "\"k\":\"ab\"");
	buf_reset(&b);
	json_add_cstring(&b, "x");
	assert_string_equal(b.data, "\"x\"");
	buf_reset(&b);
	json_add_kv_uint(&b, "n", 0);
	assert_string_equal(b.data, "\"n\":0");
	buf_reset(&b);
	json_add_kv_uint(&b, "n", UINT64_MAX);
	assert_string_equal(b.data, "\"n\":18446744073709551615");
}

static void
test_doubles_shortest(void **state)
{
	assert_string_equal(dbl(31.2089), "31.2089");
	assert_string_equal(dbl(16.5887), "16.5887");
	assert_string_equal(dbl(-0.5), "-0.5");
	assert_string_equal(dbl(0), "0");
	assert_string_equal(dbl(0.1), "0.1");
	assert_string_equal(dbl(1e300), "1e+300");
	assert_string_equal(dbl(1.0 / 3), "0.3333333333333333");
	assert_string_equal(dbl(0.1 + 0.2), "0.30000000000000004");
	assert_string_equal(
	    dbl(123456789012345678.0), "1.2345678901234568e+17");
}

static void
test_doubles_round_trip(void **state)
{
	static const double v[] = {
	    3.141592653589793,
	    2.718281828459045,
	    1e-310,
	    5e-324,
	    1.7976931348623157e308,
	    -123.456,
	    9007199254740993.0,
	    0.7,
	};
	size_t i;

	for (i = 0; i < sizeof v / sizeof v[0]; i++)
		assert_true(strtod(dbl(v[i]), NULL) == v[i]);
}

static void
test_doubles_not_finite(void **state)
{
	assert_string_equal(dbl(NAN), "null");
	assert_string_equal(dbl(INFINITY), "null");
	assert_string_equal(dbl(-INFINITY), "null");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_plain, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_escapes, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_utf8_kept, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_invalid_utf8_replaced, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_keys_and_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_doubles_shortest, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_doubles_round_trip, setup, teardown),
	    cmocka_unit_test_setup_teardown(
	        test_doubles_not_finite, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
