/*
 * The reference matcher.  See oracle.h.  Quadratic on purpose: clarity is
 * the point.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <utf8proc.h>

#include "oracle.h"

/* A normalised code point and the original code point it came from. */
struct oracle_cp {
	int32_t cp;
	size_t src_start;
	size_t src_end;
};

struct oracle_seq {
	struct oracle_cp *v;
	size_t n;
	size_t cap;
};

static void
oracle_push(struct oracle_seq *s, int32_t cp, size_t a, size_t b)
{
	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->v = realloc(s->v, s->cap * sizeof *s->v);
		if (s->v == NULL)
			abort();
	}
	s->v[s->n].cp = cp;
	s->v[s->n].src_start = a;
	s->v[s->n].src_end = b;
	s->n++;
}

/* Step 1: UTF-8, an invalid byte being one code point -1. */
static size_t
oracle_decode(const unsigned char *s, size_t n, int32_t *cp)
{
	utf8proc_int32_t c;
	utf8proc_ssize_t r;

	r = utf8proc_iterate(s, (utf8proc_ssize_t)(n > 4 ? 4 : n), &c);
	if (r < 1) {
		*cp = -1;
		return 1;
	}
	*cp = c;
	return (size_t)r;
}

static int
oracle_is_mark(int32_t c)
{
	utf8proc_category_t k = utf8proc_category(c);

	return k == UTF8PROC_CATEGORY_MN || k == UTF8PROC_CATEGORY_MC ||
	       k == UTF8PROC_CATEGORY_ME;
}

/* Step 3: letters and digits are word characters. */
static int
oracle_is_word(int32_t c)
{
	const char *k;

	if (c < 0)
		return 0;
	k = utf8proc_category_string(c);
	return k[0] == 'L' || k[0] == 'N';
}

/* Step 2: NFKD, marks dropped, then (fold) full case folding. */
static void
oracle_normalise(const char *text, size_t len, int fold, struct oracle_seq *out)
{
	size_t i = 0, n;
	int32_t cp, d[64], f[64];
	utf8proc_ssize_t nd, nf, j, k;
	int bound;

	if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
		i = 3;
	while (i < len) {
		n = oracle_decode(
		    (const unsigned char *)text + i, len - i, &cp);
		if (cp < 0) {
			oracle_push(out, -1, i, i + n);
			i += n;
			continue;
		}
		bound = 0;
		nd = utf8proc_decompose_char(
		    cp, d, 64, UTF8PROC_COMPAT | UTF8PROC_DECOMPOSE, &bound);
		for (j = 0; j < nd; j++) {
			if (oracle_is_mark(d[j]))
				continue;
			if (!fold) {
				oracle_push(out, d[j], i, i + n);
				continue;
			}
			bound = 0;
			nf = utf8proc_decompose_char(
			    d[j], f, 64, UTF8PROC_CASEFOLD, &bound);
			for (k = 0; k < nf; k++)
				oracle_push(out, f[k], i, i + n);
		}
		i += n;
	}
}

/*
 * A pattern as elements: a code point to equal, or SEP for "a non-empty run
 * of separators".  Leading and trailing separators are dropped.
 */
#define ORACLE_SEP (-2)

struct oracle_pattern {
	int32_t *el;
	size_t n;
	int star;
	int fold;
};

static int
oracle_pattern_make(const char *text, int exact_case, struct oracle_pattern *p)
{
	struct oracle_seq s = {0};
	size_t len = strlen(text), i;

	memset(p, 0, sizeof *p);
	p->fold = !exact_case;
	if (len > 0 && text[len - 1] == '*') {
		p->star = 1;
		len--;
	}
	oracle_normalise(text, len, p->fold, &s);
	p->el = malloc((s.n + 1) * sizeof *p->el);
	for (i = 0; i < s.n; i++) {
		if (oracle_is_word(s.v[i].cp))
			p->el[p->n++] = s.v[i].cp;
		else if (p->n > 0 && p->el[p->n - 1] != ORACLE_SEP)
			p->el[p->n++] = ORACLE_SEP;
	}
	if (p->n > 0 && p->el[p->n - 1] == ORACLE_SEP)
		p->n--;
	/* The '*' must continue a word: the pattern must end in one. */
	if (p->star && (s.n == 0 || !oracle_is_word(s.v[s.n - 1].cp))) {
		free(s.v);
		return -1;
	}
	free(s.v);
	return p->n > 0 ? 0 : -1;
}

int
oracle_alias_valid(const char *text)
{
	struct oracle_pattern p;
	int r;

	r = oracle_pattern_make(text, 1, &p);
	free(p.el);
	return r == 0;
}

/* Try the pattern at t->v[i]; on a match return the index after it. */
static size_t
oracle_try(const struct oracle_pattern *p, const struct oracle_seq *t, size_t i)
{
	size_t j = i, k;

	if (i > 0 && oracle_is_word(t->v[i - 1].cp))
		return 0;
	for (k = 0; k < p->n; k++) {
		if (p->el[k] == ORACLE_SEP) {
			if (j >= t->n || oracle_is_word(t->v[j].cp))
				return 0;
			while (j < t->n && !oracle_is_word(t->v[j].cp))
				j++;
		} else {
			if (j >= t->n || t->v[j].cp != p->el[k])
				return 0;
			j++;
		}
	}
	if (p->star) {
		while (j < t->n && oracle_is_word(t->v[j].cp))
			j++;
	}
	if (j < t->n && oracle_is_word(t->v[j].cp))
		return 0;
	return j;
}

static int
oracle_pattern_equal(
    const struct oracle_pattern *a, const struct oracle_pattern *b)
{
	return a->n == b->n && a->star == b->star && a->fold == b->fold &&
	       memcmp(a->el, b->el, a->n * sizeof *a->el) == 0;
}

static int
oracle_hit_cmp(const void *x, const void *y)
{
	const struct oracle_hit *a = x, *b = y;

	if (a->start != b->start)
		return a->start < b->start ? -1 : 1;
	if (a->end != b->end)
		return a->end < b->end ? -1 : 1;
	if (a->entry != b->entry)
		return a->entry < b->entry ? -1 : 1;
	if (a->alias != b->alias)
		return a->alias < b->alias ? -1 : 1;
	return 0;
}

/* For each code point, the index of the word it is in or precedes. */
static size_t *
oracle_word_index(const struct oracle_seq *t)
{
	size_t *idx, i, w = 0;

	idx = calloc(t->n + 1, sizeof *idx);
	for (i = 0; i < t->n; i++) {
		if (oracle_is_word(t->v[i].cp) &&
		    (i == 0 || !oracle_is_word(t->v[i - 1].cp)))
			w++;
		idx[i] = w > 0 ? w - 1 : 0;
	}
	return idx;
}

size_t
oracle_scan(const struct oracle_entry *entries, size_t nentries,
    const char *text, size_t len, struct oracle_hit **hits)
{
	struct oracle_seq folded = {0}, kept = {0};
	struct oracle_pattern *pats, np;
	struct oracle_hit *v = NULL;
	size_t n = 0, cap = 0, e, a, b, i, j, end, nn;
	size_t *wordidx_f, *wordidx_k, *wordidx, *nstart = NULL, *nend = NULL;
	const struct oracle_seq *t;
	int dup, covered;

	oracle_normalise(text, len, 1, &folded);
	oracle_normalise(text, len, 0, &kept);

	wordidx_f = oracle_word_index(&folded);
	wordidx_k = oracle_word_index(&kept);

	for (e = 0; e < nentries; e++) {
		const struct oracle_entry *en = &entries[e];

		/* Occurrences of this entry's `not` phrases. */
		nn = 0;
		free(nstart);
		free(nend);
		nstart =
		    malloc((folded.n + 1) * (en->nnots + 1) * sizeof *nstart);
		nend = malloc((folded.n + 1) * (en->nnots + 1) * sizeof *nend);
		for (b = 0; b < en->nnots; b++) {
			if (oracle_pattern_make(en->nots[b], 0, &np) != 0) {
				free(np.el);
				continue;
			}
			for (i = 0; i < folded.n; i++) {
				if ((end = oracle_try(&np, &folded, i)) == 0)
					continue;
				nstart[nn] = folded.v[i].src_start;
				nend[nn] = folded.v[end - 1].src_end;
				nn++;
			}
			free(np.el);
		}

		pats = calloc(en->naliases + 1, sizeof *pats);
		for (a = 0; a < en->naliases; a++) {
			if (oracle_pattern_make(en->aliases[a].text,
			        en->aliases[a].exact_case, &pats[a]) != 0) {
				pats[a].n = 0;
				continue;
			}
			/* Equal after normalisation to an earlier alias. */
			dup = 0;
			for (b = 0; b < a && !dup; b++)
				dup = pats[b].n > 0 &&
				      oracle_pattern_equal(&pats[a], &pats[b]);
			if (dup)
				continue;
			t = pats[a].fold ? &folded : &kept;
			wordidx = pats[a].fold ? wordidx_f : wordidx_k;
			for (i = 0; i < t->n; i++) {
				if ((end = oracle_try(&pats[a], t, i)) == 0)
					continue;
				if (n == cap) {
					cap = cap ? cap * 2 : 64;
					v = realloc(v, cap * sizeof *v);
				}
				v[n].entry = e;
				v[n].alias = a;
				v[n].start = t->v[i].src_start;
				v[n].end = t->v[end - 1].src_end;
				covered = 0;
				for (j = 0; j < nn && !covered; j++)
					covered = nstart[j] <= v[n].start &&
					          v[n].end <= nend[j];
				if (covered)
					continue;
				v[n].word = wordidx[i];
				n++;
			}
		}
		for (a = 0; a < en->naliases; a++)
			free(pats[a].el);
		free(pats);
	}
	free(nstart);
	free(nend);
	free(wordidx_f);
	free(wordidx_k);
	free(folded.v);
	free(kept.v);
	if (n > 1)
		qsort(v, n, sizeof *v, oracle_hit_cmp);
	*hits = v;
	return n;
}
