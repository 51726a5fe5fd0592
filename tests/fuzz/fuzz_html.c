/* fuzz_html: html_extract on the input, with the metadata. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include "buf.h"
#include "html.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct buf out;
	struct html_meta meta = {0};

	buf_init(&out);
	html_extract((const char *)data, size, &out, &meta);
	if (out.data == NULL)
		abort();
	buf_release(&out);
	html_meta_release(&meta);
	return 0;
}
