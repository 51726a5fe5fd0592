/*
 * Base64 (RFC 4648, standard alphabet).  Decoders differ in how strict they
 * must be (a MIME body forgives junk, a secret must not), so this gives the
 * alphabet and the callers decide.
 */
#ifndef WATCHLISTD_BASE64_H
#define WATCHLISTD_BASE64_H

/* The 6-bit value of a base64 character, -1 for anything else ('=' too). */
static inline int
base64_value(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

#endif
