/*
 * fuzz_date: feed_parse_date on a NUL-terminated copy of the input; a date
 * it accepts must format back (feed_format_date) when its year is 0-9999.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s, out[FEED_DATE_LEN];
	int64_t t = 0;

	if ((s = malloc(size + 1)) == NULL)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	if (feed_parse_date(s, &t) == 0)
		(void)feed_format_date(t, out, sizeof out);
	free(s);
	return 0;
}
