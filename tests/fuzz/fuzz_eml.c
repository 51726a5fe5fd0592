/* fuzz_eml: eml_parse on the input. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "eml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct eml m;

	memset(&m, 0, sizeof m);
	eml_parse(size ? (const char *)data : NULL, size, &m);
	if (m.text.data == NULL)
		abort();
	eml_release(&m);
	return 0;
}
