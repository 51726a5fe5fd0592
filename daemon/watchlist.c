/*
 * The watchlist: entries, their aliases compiled into the matcher, and the
 * scan of a text into hits.
 *
 * Two automata: one over case-folded words for `match` aliases and `not`
 * phrases, one over case-kept words for `match_case` aliases.  The text is
 * split into words once; each word is fed to both.  A ring of the last
 * WL_MAX_ALIAS_WORDS word spans turns "pattern of n words ends here" into
 * byte offsets.
 */
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "options.h"
#include "text.h"
#include "watchlist.h"
#include "xmalloc.h"

/* What a matcher pattern id stands for. */
struct watchlist_pat {
	uint32_t entry;
	uint32_t alias; /* index in aliases, or in nots when is_not */
	int is_not;
};

/*
 * A slot of the id table: the entry's index plus one (0: empty), and the low
 * bits of its id's hash, compared before the id itself so that a probe
 * rarely has to follow the pointer to it.
 */
struct watchlist_id {
	uint32_t entry;
	uint32_t hash;
};

struct watchlist {
	struct watchlist_entry **entries;
	size_t n;
	size_t cap;

	/* Entry ids: open addressing. */
	struct watchlist_id *ids;
	size_t ids_cap;

	struct match *fold;
	struct match *exact;
	int has_exact;
	struct watchlist_pat *pats;
	size_t npats;
	size_t cap_pats;
	int compiled;
};

/* A `not` phrase found in the text. */
struct watchlist_not {
	uint32_t entry;
	size_t start;
	size_t end;
	size_t maxend; /* largest end of this and earlier ones of the entry */
};

/* State of one scan, passed to the matcher's callbacks. */
struct watchlist_scan {
	const struct watchlist *wl;
	struct watchlist_hits *hits;
	struct watchlist_not *nots;
	size_t nnots;
	size_t cap_nots;
	size_t ring_start[WL_MAX_ALIAS_WORDS];
	size_t ring_end[WL_MAX_ALIAS_WORDS];
	size_t word; /* index of the word being fed */
};

static uint64_t
watchlist_hash(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *s != '\0'; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ULL;
	/*
	 * FNV's low bits hear only the low bits of each byte, and ids such
	 * as "p1234" differ in digits: mix the high bits down before the
	 * table takes the low ones.
	 */
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	return h;
}

struct watchlist *
watchlist_new(void)
{
	return xcalloc(1, sizeof(struct watchlist));
}

static void
watchlist_alias_release(struct watchlist_alias *a)
{
	free(a->text);
}

static void
watchlist_entry_free(struct watchlist_entry *e)
{
	size_t i;

	for (i = 0; i < e->naliases; i++)
		watchlist_alias_release(&e->aliases[i]);
	for (i = 0; i < e->nnots; i++)
		watchlist_alias_release(&e->nots[i]);
	for (i = 0; i < e->ntags; i++)
		free(e->tags[i]);
	free(e->aliases);
	free(e->nots);
	free(e->tags);
	free(e);
}

void
watchlist_free(struct watchlist *wl)
{
	size_t i;

	if (wl == NULL)
		return;
	for (i = 0; i < wl->n; i++)
		watchlist_entry_free(wl->entries[i]);
	free(wl->entries);
	free(wl->ids);
	free(wl->pats);
	match_free(wl->fold);
	match_free(wl->exact);
	free(wl);
}

static size_t
watchlist_id_slot(const struct watchlist *wl, const char *id, uint32_t *hash)
{
	uint64_t h = watchlist_hash(id);
	size_t i = (size_t)h & (wl->ids_cap - 1);
	const struct watchlist_id *slot;

	*hash = (uint32_t)(h >> 32);
	for (;; i = (i + 1) & (wl->ids_cap - 1)) {
		slot = &wl->ids[i];
		if (slot->entry == 0 ||
		    (slot->hash == *hash &&
		        strcmp(wl->entries[slot->entry - 1]->id, id) == 0))
			return i;
	}
}

static void
watchlist_ids_grow(struct watchlist *wl)
{
	size_t i, slot;
	uint32_t hash;

	free(wl->ids);
	wl->ids_cap = wl->ids_cap ? wl->ids_cap * 2 : 64;
	wl->ids = xcalloc(wl->ids_cap, sizeof *wl->ids);
	for (i = 0; i < wl->n; i++) {
		slot = watchlist_id_slot(wl, wl->entries[i]->id, &hash);
		wl->ids[slot].entry = (uint32_t)i + 1;
		wl->ids[slot].hash = hash;
	}
}

struct watchlist_entry *
watchlist_find(const struct watchlist *wl, const char *id)
{
	size_t i;
	uint32_t hash;

	if (wl->ids_cap == 0)
		return NULL;
	i = watchlist_id_slot(wl, id, &hash);
	return wl->ids[i].entry == 0 ? NULL : wl->entries[wl->ids[i].entry - 1];
}

struct watchlist_entry *
watchlist_add_entry(struct watchlist *wl, enum watchlist_kind kind,
    const char *id, const char *file, int line)
{
	struct watchlist_entry *e;
	size_t slot;
	uint32_t hash;

	if (wl->compiled || watchlist_find(wl, id) != NULL)
		return NULL;
	if ((wl->n + 1) * 4 > wl->ids_cap * 3)
		watchlist_ids_grow(wl);
	if (wl->n == wl->cap) {
		wl->cap = wl->cap ? wl->cap * 2 : 16;
		wl->entries =
		    xreallocarray(wl->entries, wl->cap, sizeof *wl->entries);
	}
	/* One allocation for the entry and its id: a gazetteer has many. */
	e = xcalloc(1, sizeof *e + strlen(id) + 1);
	e->id = (char *)(e + 1);
	memcpy(e->id, id, strlen(id) + 1);
	e->kind = kind;
	e->index = wl->n;
	e->file = file;
	e->line = line;
	wl->entries[wl->n++] = e;
	slot = watchlist_id_slot(wl, id, &hash);
	wl->ids[slot].entry = (uint32_t)wl->n;
	wl->ids[slot].hash = hash;
	return e;
}

/*
 * Whether the normalised form of s[0..len) ends in a word character: a '*'
 * must continue a word.  The last code point alone is not enough, since a
 * combining mark normalises to nothing.
 */
static int
watchlist_ends_in_word(const char *s, size_t len)
{
	int32_t cp, out[TEXT_NORM_MAX];
	size_t i = 0;
	int n, word = 0;

	while (i < len) {
		i += text_utf8_decode(s + i, len - i, &cp);
		if ((n = text_norm_cp(cp, 0, out)) > 0)
			word = text_is_word(out[n - 1]);
	}
	return word;
}

/*
 * Check and store an alias or `not` phrase.  The words themselves are
 * computed again at compile time; here only their count matters.
 */
static int
watchlist_add_pattern(struct watchlist_alias **v, size_t *n, const char *text,
    int exact_case, int line, char **cause)
{
	struct watchlist_alias *a;
	struct text_scan ts;
	struct text_word w;
	size_t len = strlen(text), nwords = 0;
	int star = 0;

	if (len > WL_MAX_ALIAS_BYTES) {
		*cause = xasprintf("'%.40s...' is longer than %d bytes", text,
		    WL_MAX_ALIAS_BYTES);
		return -1;
	}
	if (len > 0 && text[len - 1] == '*') {
		star = 1;
		len--;
		if (!watchlist_ends_in_word(text, len)) {
			*cause = xasprintf("'%s': '*' must follow a letter "
			                   "or digit",
			    text);
			return -1;
		}
	}
	text_scan_init(&ts, text, len, 0);
	while (text_scan_next(&ts, &w))
		nwords++;
	text_scan_release(&ts);
	if (nwords == 0) {
		*cause = xasprintf("'%s' has no letters or digits", text);
		return -1;
	}
	if (nwords > WL_MAX_ALIAS_WORDS) {
		*cause = xasprintf("'%.40s...' has more than %d words", text,
		    WL_MAX_ALIAS_WORDS);
		return -1;
	}
	*v = xreallocarray(*v, *n + 1, sizeof **v);
	a = &(*v)[(*n)++];
	memset(a, 0, sizeof *a);
	a->text = xstrndup(text, len);
	a->star = star;
	a->exact_case = exact_case;
	a->line = line;
	return 0;
}

int
watchlist_entry_add_alias(struct watchlist_entry *e, const char *text,
    int exact_case, int line, char **cause)
{
	return watchlist_add_pattern(
	    &e->aliases, &e->naliases, text, exact_case, line, cause);
}

int
watchlist_entry_add_not(
    struct watchlist_entry *e, const char *text, int line, char **cause)
{
	return watchlist_add_pattern(&e->nots, &e->nnots, text, 0, line, cause);
}

void
watchlist_entry_add_tag(struct watchlist_entry *e, const char *tag)
{
	if (watchlist_entry_has_tag(e, tag))
		return;
	e->tags = xreallocarray(e->tags, e->ntags + 1, sizeof *e->tags);
	e->tags[e->ntags++] = xstrdup(tag);
}

int
watchlist_entry_has_tag(const struct watchlist_entry *e, const char *tag)
{
	size_t i;

	for (i = 0; i < e->ntags; i++) {
		if (strcmp(e->tags[i], tag) == 0)
			return 1;
	}
	return 0;
}

size_t
watchlist_count(const struct watchlist *wl)
{
	return wl->n;
}

struct watchlist_entry *
watchlist_entry(const struct watchlist *wl, size_t i)
{
	return i < wl->n ? wl->entries[i] : NULL;
}

const char *
watchlist_kind_name(enum watchlist_kind kind)
{
	return kind == WATCHLIST_PLACE ? "place" : "term";
}

size_t
watchlist_npatterns(const struct watchlist *wl)
{
	return wl->npats;
}

/* The normalised words of a pattern, as a match_add() call wants them. */
struct watchlist_words {
	struct buf bytes; /* words separated by ' ', which no word holds */
	const char *w[WL_MAX_ALIAS_WORDS];
	size_t len[WL_MAX_ALIAS_WORDS];
	size_t n;
};

static void
watchlist_words_make(
    struct watchlist_words *ww, const struct watchlist_alias *a)
{
	struct text_scan ts;
	struct text_word w;
	size_t off[WL_MAX_ALIAS_WORDS], i;

	buf_reset(&ww->bytes);
	ww->n = 0;
	buf_add_byte(&ww->bytes, a->exact_case ? 'C' : 'F');
	buf_add_byte(&ww->bytes, a->star ? '*' : ' ');
	text_scan_init(&ts, a->text, strlen(a->text), a->exact_case);
	while (text_scan_next(&ts, &w) && ww->n < WL_MAX_ALIAS_WORDS) {
		buf_add_byte(&ww->bytes, ' ');
		off[ww->n] = ww->bytes.len;
		if (a->exact_case) {
			buf_add(&ww->bytes, w.exact, w.exactlen);
			ww->len[ww->n] = w.exactlen;
		} else {
			buf_add(&ww->bytes, w.fold, w.foldlen);
			ww->len[ww->n] = w.foldlen;
		}
		ww->n++;
	}
	text_scan_release(&ts);
	/* Pointers only now: the buffer may have moved while growing. */
	for (i = 0; i < ww->n; i++)
		ww->w[i] = ww->bytes.data + off[i];
}

static uint32_t
watchlist_add_pat(
    struct watchlist *wl, uint32_t entry, uint32_t alias, int is_not)
{
	if (wl->npats == wl->cap_pats) {
		wl->cap_pats = wl->cap_pats ? wl->cap_pats * 2 : 64;
		wl->pats =
		    xreallocarray(wl->pats, wl->cap_pats, sizeof *wl->pats);
	}
	wl->pats[wl->npats].entry = entry;
	wl->pats[wl->npats].alias = alias;
	wl->pats[wl->npats].is_not = is_not;
	return (uint32_t)wl->npats++;
}

/*
 * Aliases of one entry that normalise alike are one alias; the first keeps
 * it.  An entry has few aliases, so the keys are compared pairwise.
 */
void
watchlist_compile(struct watchlist *wl, watchlist_warn_cb warn, void *arg)
{
	struct watchlist_entry *e;
	struct watchlist_words ww;
	char **keys;
	size_t i, j, k;
	uint32_t id;

	if (wl->compiled)
		return;
	wl->compiled = 1;
	wl->fold = match_new();
	wl->exact = match_new();
	buf_init(&ww.bytes);
	for (i = 0; i < wl->n; i++) {
		e = wl->entries[i];
		keys = xcalloc(e->naliases, sizeof *keys);
		for (j = 0; j < e->naliases; j++) {
			watchlist_words_make(&ww, &e->aliases[j]);
			keys[j] = xstrndup(ww.bytes.data, ww.bytes.len);
			for (k = 0; k < j; k++) {
				if (!e->aliases[k].duplicate &&
				    strcmp(keys[k], keys[j]) == 0)
					break;
			}
			if (k < j) {
				e->aliases[j].duplicate = 1;
				if (warn != NULL)
					warn(e, &e->aliases[j], &e->aliases[k],
					    arg);
				continue;
			}
			id = watchlist_add_pat(wl, (uint32_t)i, (uint32_t)j, 0);
			if (e->aliases[j].exact_case) {
				match_add(wl->exact, ww.w, ww.len, ww.n,
				    e->aliases[j].star, id);
				wl->has_exact = 1;
			} else
				match_add(wl->fold, ww.w, ww.len, ww.n,
				    e->aliases[j].star, id);
		}
		for (j = 0; j < e->naliases; j++)
			free(keys[j]);
		free(keys);
		for (j = 0; j < e->nnots; j++) {
			watchlist_words_make(&ww, &e->nots[j]);
			id = watchlist_add_pat(wl, (uint32_t)i, (uint32_t)j, 1);
			match_add(
			    wl->fold, ww.w, ww.len, ww.n, e->nots[j].star, id);
		}
	}
	buf_release(&ww.bytes);
	match_compile(wl->fold);
	match_compile(wl->exact);
}

void
watchlist_hits_init(struct watchlist_hits *h)
{
	memset(h, 0, sizeof *h);
}

void
watchlist_hits_release(struct watchlist_hits *h)
{
	free(h->v);
	watchlist_hits_init(h);
}

/* A pattern ended at the current word: record a hit or a `not` phrase. */
static void
watchlist_scan_cb(uint32_t id, uint32_t nwords, void *arg)
{
	struct watchlist_scan *sc = arg;
	const struct watchlist_pat *p = &sc->wl->pats[id];
	struct watchlist_hits *h = sc->hits;
	struct watchlist_hit *hit;
	size_t first = sc->word + 1 - nwords;
	size_t start = sc->ring_start[first % WL_MAX_ALIAS_WORDS];
	size_t end = sc->ring_end[sc->word % WL_MAX_ALIAS_WORDS];

	if (p->is_not) {
		if (sc->nnots == sc->cap_nots) {
			sc->cap_nots = sc->cap_nots ? sc->cap_nots * 2 : 16;
			sc->nots = xreallocarray(
			    sc->nots, sc->cap_nots, sizeof *sc->nots);
		}
		sc->nots[sc->nnots].entry = p->entry;
		sc->nots[sc->nnots].start = start;
		sc->nots[sc->nnots].end = end;
		sc->nnots++;
		return;
	}
	if (h->n == h->cap) {
		h->cap = h->cap ? h->cap * 2 : 64;
		h->v = xreallocarray(h->v, h->cap, sizeof *h->v);
	}
	hit = &h->v[h->n++];
	hit->entry = p->entry;
	hit->alias = p->alias;
	hit->start = start;
	hit->end = end;
	hit->word = first;
}

static int
watchlist_not_cmp(const void *a, const void *b)
{
	const struct watchlist_not *x = a, *y = b;

	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	return 0;
}

static int
watchlist_hit_cmp(const void *a, const void *b)
{
	const struct watchlist_hit *x = a, *y = b;

	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	if (x->entry != y->entry)
		return x->entry < y->entry ? -1 : 1;
	if (x->alias != y->alias)
		return x->alias < y->alias ? -1 : 1;
	return 0;
}

/*
 * Whether a `not` phrase of the hit's entry covers it.  nots is sorted by
 * entry and start, with maxend running over each entry's phrases: find the
 * last phrase starting at or before the hit; the hit is covered when some
 * phrase up to there ends at or after the hit's end.
 */
static int
watchlist_hit_negated(
    const struct watchlist_scan *sc, const struct watchlist_hit *hit)
{
	size_t lo = 0, hi = sc->nnots, mid;
	const struct watchlist_not *nt;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		nt = &sc->nots[mid];
		if (nt->entry < hit->entry ||
		    (nt->entry == hit->entry && nt->start <= hit->start))
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo == 0)
		return 0;
	nt = &sc->nots[lo - 1];
	return nt->entry == hit->entry && nt->maxend >= hit->end;
}

static void
watchlist_apply_nots(struct watchlist_scan *sc)
{
	struct watchlist_hits *h = sc->hits;
	size_t i, j;

	if (sc->nnots == 0)
		return;
	qsort(sc->nots, sc->nnots, sizeof *sc->nots, watchlist_not_cmp);
	for (i = 0; i < sc->nnots; i++) {
		sc->nots[i].maxend = sc->nots[i].end;
		if (i > 0 && sc->nots[i - 1].entry == sc->nots[i].entry &&
		    sc->nots[i - 1].maxend > sc->nots[i].maxend)
			sc->nots[i].maxend = sc->nots[i - 1].maxend;
	}
	for (i = j = 0; i < h->n; i++) {
		if (!watchlist_hit_negated(sc, &h->v[i]))
			h->v[j++] = h->v[i];
	}
	h->n = j;
}

/*
 * Hits are found in the order they end, which is their sorted order except
 * for phrases, which start a few words back: an insertion sort is linear
 * then.  Should it have to move much more than that, qsort takes over.
 */
static void
watchlist_hits_sort(struct watchlist_hits *h)
{
	struct watchlist_hit tmp;
	size_t i, j, moves = 0;

	for (i = 1; i < h->n; i++) {
		if (watchlist_hit_cmp(&h->v[i - 1], &h->v[i]) <= 0)
			continue;
		tmp = h->v[i];
		for (j = i; j > 0 && watchlist_hit_cmp(&h->v[j - 1], &tmp) > 0;
		     j--)
			h->v[j] = h->v[j - 1];
		h->v[j] = tmp;
		moves += i - j;
		if (moves > 8 * h->n) {
			qsort(h->v, h->n, sizeof *h->v, watchlist_hit_cmp);
			return;
		}
	}
}

void
watchlist_scan(const struct watchlist *wl, const char *text, size_t len,
    struct watchlist_hits *h)
{
	struct match_state fold = MATCH_STATE_INIT, exact = MATCH_STATE_INIT;
	struct watchlist_scan sc;
	struct text_scan ts;
	struct text_word w;

	memset(&sc, 0, sizeof sc);
	sc.wl = wl;
	sc.hits = h;
	h->n = 0;
	text_scan_init(&ts, text, len, wl->has_exact);
	while (text_scan_next(&ts, &w)) {
		sc.word = w.index;
		sc.ring_start[w.index % WL_MAX_ALIAS_WORDS] = w.start;
		sc.ring_end[w.index % WL_MAX_ALIAS_WORDS] = w.end;
		match_feed(
		    wl->fold, &fold, w.fold, w.foldlen, watchlist_scan_cb, &sc);
		if (wl->has_exact)
			match_feed(wl->exact, &exact, w.exact, w.exactlen,
			    watchlist_scan_cb, &sc);
	}
	h->nwords = ts.index;
	text_scan_release(&ts);
	watchlist_apply_nots(&sc);
	free(sc.nots);
	watchlist_hits_sort(h);
}
