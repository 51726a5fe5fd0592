/* fuzz_feed: feed_parse on the input (RSS, RDF, Atom and JSON Feed). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "feed.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed f;
	char *cause = NULL;

	memset(&f, 0, sizeof f);
	if (feed_parse((const char *)data, size, &f, &cause) != 0 &&
	    cause == NULL)
		abort();
	free(cause);
	feed_release(&f);
	(void)feed_sniff((const char *)data, size);
	return 0;
}
