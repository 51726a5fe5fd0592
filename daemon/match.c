/*
 * Aho-Corasick over words.  See match.h for why words.
 *
 * States are numbered from 0 (the root).  Transitions live in one hash table
 * keyed by (state, word symbol), except the root's, which are a dense array
 * indexed by symbol because almost every text word is looked up there (and
 * most edges of a large watchlist leave the root).
 *
 * A pattern "w1 ... wk*" is the path w1 ... wk-1 plus a star edge labelled
 * with the prefix word wk.  Feeding a text word first collects the prefix
 * words it starts with (a byte trie), then checks the star edges of the
 * current state and of its failure chain; star_link skips the states of that
 * chain that have none, so a watchlist without '*' pays nothing.
 */
#include <stdlib.h>
#include <string.h>

#include "match.h"
#include "xmalloc.h"

#define MATCH_NONE UINT32_MAX

/*
 * An open-addressing map from 64-bit keys to 32-bit values.  Key and value
 * share a slot so that a lookup touches one cache line.
 */
struct match_slot {
	uint64_t key;
	uint32_t val; /* plus one: 0 marks an empty slot */
};

struct match_map {
	struct match_slot *slots;
	size_t cap; /* a power of two; 0 when empty */
	size_t n;
};

/* A set of byte strings, each given a dense symbol number. */
struct match_dict {
	/* Hash -> first symbol with it; next[] chains the collisions. */
	struct match_map map;
	uint32_t *next;
	size_t *off; /* where each string starts in bytes */
	size_t *len;
	char *bytes;
	size_t nbytes;
	size_t cap_bytes;
	uint32_t n;
	uint32_t cap;
	/*
	 * Bit min(len, 63) of first[c] is set when some string of that
	 * length starts with byte c: most text words are rejected here,
	 * before they are hashed.
	 */
	uint64_t first[256];
	/*
	 * A Bloom filter of the hashes, two bits in one 64-bit word per
	 * string, sixteen bits per string: built by match_compile() so that
	 * a large dictionary answers most misses from a small table.
	 */
	uint64_t *bloom;
	uint64_t bloom_mask; /* words in bloom, minus one */
};

/* What a state or a star edge reports: pattern id and length in words. */
struct match_out {
	uint32_t id;
	uint32_t nwords;
};

/* Outputs during the build: a list per state or star edge. */
struct match_outlist {
	struct match_out *v;
	uint32_t n;
	uint32_t cap;
};

struct match {
	struct match_dict words; /* exact words */
	struct match_dict stars; /* prefix words of '*' patterns */

	uint32_t nstates;
	uint32_t cap_states;
	uint32_t *depth; /* words from the root */
	uint32_t *fail;
	uint32_t *dict; /* next state on the failure chain with outputs */
	/* This state, or the next on its failure chain, with star edges. */
	uint32_t *star_link;
	uint8_t *has_star;

	uint32_t *root; /* root transitions by word symbol */
	uint32_t cap_root;
	struct match_map go; /* (state << 32 | symbol) -> state, but the root */

	/*
	 * Outputs per state: while building, a list through out_next from
	 * out_head[state] (index + 1, 0 ends it); match_compile() lays them
	 * out in order, those of state s in outs[out_start[s] ..
	 * out_start[s + 1]).
	 */
	struct match_out *outs;
	uint32_t *out_next;
	uint32_t *out_head;
	uint32_t *out_tail;
	uint32_t *out_start;
	uint32_t nouts;
	uint32_t cap_outs;

	struct match_map star_edges; /* (state << 32 | star symbol) -> list */
	struct match_outlist *star_outs;
	uint32_t nstar_outs;
	uint32_t cap_star_outs;

	/* Byte trie of the star words: (node << 8 | byte) -> node. */
	struct match_map trie;
	uint32_t *trie_star; /* star symbol + 1 ending at a node, or 0 */
	uint32_t ntrie;
	uint32_t cap_trie;

	size_t npatterns;
	int compiled;
};

/*
 * A word's hash.  Most words are short, so the tail is read with at most two
 * overlapping fixed-size loads rather than a byte loop.
 */
static uint64_t
match_hash_bytes(const char *s, size_t len)
{
	uint64_t h = 0x9e3779b97f4a7c15ULL ^ len, k;
	uint32_t a, b;

	while (len > 8) {
		memcpy(&k, s, 8);
		h = (h ^ k) * 0xff51afd7ed558ccdULL;
		h ^= h >> 32;
		s += 8;
		len -= 8;
	}
	if (len >= 4) {
		memcpy(&a, s, 4);
		memcpy(&b, s + len - 4, 4);
		k = (uint64_t)a << 32 | b;
	} else if (len > 0)
		k = (uint64_t)(unsigned char)s[0] << 16 |
		    (uint64_t)(unsigned char)s[len / 2] << 8 |
		    (unsigned char)s[len - 1];
	else
		k = 0;
	h = (h ^ k) * 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 29;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 32;
	return h;
}

static size_t
match_map_slot(uint64_t key, size_t cap)
{
	uint64_t h = key * 0x9e3779b97f4a7c15ULL;

	return (size_t)(h ^ (h >> 31)) & (cap - 1);
}

static void match_map_put(struct match_map *mp, uint64_t key, uint32_t val);

static void
match_map_grow(struct match_map *mp)
{
	struct match_map old = *mp;
	size_t i;

	mp->cap = old.cap ? old.cap * 2 : 64;
	mp->slots = xcalloc(mp->cap, sizeof *mp->slots);
	mp->n = 0;
	for (i = 0; i < old.cap; i++) {
		if (old.slots[i].val != 0)
			match_map_put(
			    mp, old.slots[i].key, old.slots[i].val - 1);
	}
	free(old.slots);
}

/* Values are stored plus one so that 0 marks an empty slot. */
static void
match_map_put(struct match_map *mp, uint64_t key, uint32_t val)
{
	size_t i;

	if ((mp->n + 1) * 4 > mp->cap * 3)
		match_map_grow(mp);
	i = match_map_slot(key, mp->cap);
	while (mp->slots[i].val != 0 && mp->slots[i].key != key)
		i = (i + 1) & (mp->cap - 1);
	if (mp->slots[i].val == 0)
		mp->n++;
	mp->slots[i].key = key;
	mp->slots[i].val = val + 1;
}

static uint32_t
match_map_get(const struct match_map *mp, uint64_t key)
{
	size_t i;

	if (mp->cap == 0)
		return MATCH_NONE;
	i = match_map_slot(key, mp->cap);
	while (mp->slots[i].val != 0) {
		if (mp->slots[i].key == key)
			return mp->slots[i].val - 1;
		i = (i + 1) & (mp->cap - 1);
	}
	return MATCH_NONE;
}

static void
match_map_release(struct match_map *mp)
{
	free(mp->slots);
	memset(mp, 0, sizeof *mp);
}

/* Whether the dictionary may hold a string of len bytes starting with c. */
static int
match_dict_may_have(const struct match_dict *d, unsigned char c, size_t len)
{
	return (d->first[c] >> (len < 63 ? len : 63)) & 1;
}

static uint64_t
match_bloom_bits(uint64_t h)
{
	return 1ULL << (h & 63) | 1ULL << ((h >> 6) & 63);
}

static void
match_dict_build_bloom(struct match_dict *d)
{
	uint64_t words = 1, bits;
	uint32_t sym;

	while (words * 64 < (uint64_t)d->n * 16)
		words *= 2;
	d->bloom = xcalloc(words, sizeof *d->bloom);
	d->bloom_mask = words - 1;
	for (sym = 0; sym < d->n; sym++) {
		bits = match_hash_bytes(d->bytes + d->off[sym], d->len[sym]);
		d->bloom[(bits >> 32) & d->bloom_mask] |=
		    match_bloom_bits(bits);
	}
}

static uint32_t
match_dict_find(const struct match_dict *d, const char *s, size_t len)
{
	uint64_t h, bits;
	uint32_t sym;

	if (len == 0 || !match_dict_may_have(d, (unsigned char)s[0], len))
		return MATCH_NONE;
	h = match_hash_bytes(s, len);
	if (d->bloom != NULL) {
		bits = match_bloom_bits(h);
		if ((d->bloom[(h >> 32) & d->bloom_mask] & bits) != bits)
			return MATCH_NONE;
	}
	sym = match_map_get(&d->map, h);
	while (sym != MATCH_NONE) {
		if (d->len[sym] == len &&
		    memcmp(d->bytes + d->off[sym], s, len) == 0)
			return sym;
		sym = d->next[sym];
	}
	return MATCH_NONE;
}

static uint32_t
match_dict_intern(struct match_dict *d, const char *s, size_t len)
{
	uint64_t h;
	uint32_t sym;

	if ((sym = match_dict_find(d, s, len)) != MATCH_NONE)
		return sym;
	if (d->n == d->cap) {
		d->cap = d->cap ? d->cap * 2 : 64;
		d->next = xreallocarray(d->next, d->cap, sizeof *d->next);
		d->off = xreallocarray(d->off, d->cap, sizeof *d->off);
		d->len = xreallocarray(d->len, d->cap, sizeof *d->len);
	}
	while (d->nbytes + len > d->cap_bytes) {
		d->cap_bytes = d->cap_bytes ? d->cap_bytes * 2 : 1024;
		d->bytes = xrealloc(d->bytes, d->cap_bytes);
	}
	sym = d->n++;
	if (len > 0)
		d->first[(unsigned char)s[0]] |= 1ULL << (len < 63 ? len : 63);
	memcpy(d->bytes + d->nbytes, s, len);
	d->off[sym] = d->nbytes;
	d->len[sym] = len;
	d->nbytes += len;
	h = match_hash_bytes(s, len);
	d->next[sym] = match_map_get(&d->map, h);
	match_map_put(&d->map, h, sym);
	return sym;
}

static void
match_dict_release(struct match_dict *d)
{
	match_map_release(&d->map);
	free(d->next);
	free(d->off);
	free(d->len);
	free(d->bytes);
	free(d->bloom);
	memset(d, 0, sizeof *d);
}

static void
match_outlist_add(struct match_outlist *l, uint32_t id, uint32_t nwords)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 2;
		l->v = xreallocarray(l->v, l->cap, sizeof *l->v);
	}
	l->v[l->n].id = id;
	l->v[l->n].nwords = nwords;
	l->n++;
}

static uint32_t
match_new_state(struct match *m, uint32_t depth)
{
	uint32_t s;

	if (m->nstates == m->cap_states) {
		m->cap_states = m->cap_states ? m->cap_states * 2 : 64;
		m->depth =
		    xreallocarray(m->depth, m->cap_states, sizeof *m->depth);
		m->out_head = xreallocarray(
		    m->out_head, m->cap_states, sizeof *m->out_head);
		m->out_tail = xreallocarray(
		    m->out_tail, m->cap_states, sizeof *m->out_tail);
		m->has_star = xreallocarray(
		    m->has_star, m->cap_states, sizeof *m->has_star);
	}
	s = m->nstates++;
	m->depth[s] = depth;
	m->out_head[s] = m->out_tail[s] = 0;
	m->has_star[s] = 0;
	return s;
}

static uint32_t
match_new_trie_node(struct match *m)
{
	if (m->ntrie == m->cap_trie) {
		m->cap_trie = m->cap_trie ? m->cap_trie * 2 : 64;
		m->trie_star = xreallocarray(
		    m->trie_star, m->cap_trie, sizeof *m->trie_star);
	}
	m->trie_star[m->ntrie] = 0;
	return m->ntrie++;
}

struct match *
match_new(void)
{
	struct match *m;

	m = xcalloc(1, sizeof *m);
	match_new_state(m, 0);
	match_new_trie_node(m);
	return m;
}

void
match_free(struct match *m)
{
	uint32_t i;

	if (m == NULL)
		return;
	match_dict_release(&m->words);
	match_dict_release(&m->stars);
	for (i = 0; i < m->nstar_outs; i++)
		free(m->star_outs[i].v);
	free(m->outs);
	free(m->out_next);
	free(m->out_head);
	free(m->out_tail);
	free(m->out_start);
	free(m->star_outs);
	free(m->depth);
	free(m->fail);
	free(m->dict);
	free(m->star_link);
	free(m->has_star);
	free(m->root);
	free(m->trie_star);
	match_map_release(&m->go);
	match_map_release(&m->star_edges);
	match_map_release(&m->trie);
	free(m);
}

static uint64_t
match_key(uint32_t state, uint32_t sym)
{
	return (uint64_t)state << 32 | sym;
}

/* Add a star word to the byte trie; returns its symbol. */
static uint32_t
match_add_star_word(struct match *m, const char *w, size_t len)
{
	uint32_t sym, node = 0, child;
	size_t i;

	sym = match_dict_intern(&m->stars, w, len);
	for (i = 0; i < len; i++) {
		child = match_map_get(
		    &m->trie, (uint64_t)node << 8 | (unsigned char)w[i]);
		if (child == MATCH_NONE) {
			child = match_new_trie_node(m);
			match_map_put(&m->trie,
			    (uint64_t)node << 8 | (unsigned char)w[i], child);
		}
		node = child;
	}
	m->trie_star[node] = sym + 1;
	return sym;
}

/* The transition from s on sym, without failure: MATCH_NONE if none. */
static uint32_t
match_goto(const struct match *m, uint32_t s, uint32_t sym)
{
	if (s == 0)
		return m->root[sym];
	return match_map_get(&m->go, match_key(s, sym));
}

/* Grow the root's array to cover every word symbol. */
static void
match_root_fit(struct match *m)
{
	uint32_t i, old = m->cap_root;

	if (m->words.n <= m->cap_root)
		return;
	m->cap_root = m->cap_root ? m->cap_root * 2 : 64;
	while (m->cap_root < m->words.n)
		m->cap_root *= 2;
	m->root = xreallocarray(m->root, m->cap_root, sizeof *m->root);
	for (i = old; i < m->cap_root; i++)
		m->root[i] = MATCH_NONE;
}

/* Append an output to state s, keeping the order of the adds. */
static void
match_add_output(struct match *m, uint32_t s, uint32_t id, uint32_t nwords)
{
	uint32_t o;

	if (m->nouts == m->cap_outs) {
		m->cap_outs = m->cap_outs ? m->cap_outs * 2 : 64;
		m->outs = xreallocarray(m->outs, m->cap_outs, sizeof *m->outs);
		m->out_next = xreallocarray(
		    m->out_next, m->cap_outs, sizeof *m->out_next);
	}
	o = m->nouts++;
	m->outs[o].id = id;
	m->outs[o].nwords = nwords;
	m->out_next[o] = 0;
	if (m->out_tail[s] != 0)
		m->out_next[m->out_tail[s] - 1] = o + 1;
	else
		m->out_head[s] = o + 1;
	m->out_tail[s] = o + 1;
}

/*
 * Lay the outputs out by state, in the order they were added, and drop the
 * build-time lists.
 */
static void
match_pack_outputs(struct match *m)
{
	struct match_out *packed;
	uint32_t s, o, k = 0;

	m->out_start =
	    xreallocarray(NULL, (size_t)m->nstates + 1, sizeof *m->out_start);
	packed = xreallocarray(NULL, m->nouts ? m->nouts : 1, sizeof *packed);
	for (s = 0; s < m->nstates; s++) {
		m->out_start[s] = k;
		for (o = m->out_head[s]; o != 0; o = m->out_next[o - 1])
			packed[k++] = m->outs[o - 1];
	}
	m->out_start[m->nstates] = k;
	free(m->outs);
	free(m->out_next);
	free(m->out_head);
	free(m->out_tail);
	m->outs = packed;
	m->out_next = m->out_head = m->out_tail = NULL;
}

void
match_add(struct match *m, const char *const *words, const size_t *lens,
    size_t n, int star, uint32_t id)
{
	uint32_t s = 0, next, sym, list;
	size_t i, path = star ? n - 1 : n;

	if (n == 0 || m->compiled)
		return;
	for (i = 0; i < path; i++) {
		sym = match_dict_intern(&m->words, words[i], lens[i]);
		match_root_fit(m);
		next = match_goto(m, s, sym);
		if (next == MATCH_NONE) {
			next = match_new_state(m, (uint32_t)i + 1);
			if (s == 0)
				m->root[sym] = next;
			else
				match_map_put(&m->go, match_key(s, sym), next);
		}
		s = next;
	}
	if (!star) {
		match_add_output(m, s, id, (uint32_t)n);
		m->npatterns++;
		return;
	}
	sym = match_add_star_word(m, words[n - 1], lens[n - 1]);
	list = match_map_get(&m->star_edges, match_key(s, sym));
	if (list == MATCH_NONE) {
		if (m->nstar_outs == m->cap_star_outs) {
			m->cap_star_outs =
			    m->cap_star_outs ? m->cap_star_outs * 2 : 16;
			m->star_outs = xreallocarray(m->star_outs,
			    m->cap_star_outs, sizeof *m->star_outs);
		}
		list = m->nstar_outs++;
		memset(&m->star_outs[list], 0, sizeof m->star_outs[list]);
		match_map_put(&m->star_edges, match_key(s, sym), list);
	}
	match_outlist_add(&m->star_outs[list], id, (uint32_t)n);
	m->has_star[s] = 1;
	m->npatterns++;
}

/* Whether state s reports anything itself (after match_pack_outputs). */
static int
match_has_output(const struct match *m, uint32_t s)
{
	return m->out_start[s + 1] > m->out_start[s];
}

/*
 * Failure links by breadth-first order.  The transitions are read back out
 * of the hash table once and sorted by parent so that each state's children
 * can be visited.
 */
void
match_compile(struct match *m)
{
	uint32_t *edge_sym, *edge_to, *start, *queue;
	uint32_t nedges = 0, i, head = 0, tail = 0, s, e, f, t, sym;
	size_t k;

	if (m->compiled)
		return;
	m->compiled = 1;
	match_dict_build_bloom(&m->words);

	match_root_fit(m);
	match_pack_outputs(m);

	/* Counting sort of the edges by parent state, the root's first. */
	start = xcalloc((size_t)m->nstates + 1, sizeof *start);
	for (i = 0; i < m->words.n; i++) {
		if (m->root[i] != MATCH_NONE)
			start[1]++;
	}
	for (k = 0; k < m->go.cap; k++) {
		if (m->go.slots[k].val != 0)
			start[(m->go.slots[k].key >> 32) + 1]++;
	}
	for (i = 0; i < m->nstates; i++)
		start[i + 1] += start[i];
	nedges = start[m->nstates];
	edge_sym = xreallocarray(NULL, nedges ? nedges : 1, sizeof *edge_sym);
	edge_to = xreallocarray(NULL, nedges ? nedges : 1, sizeof *edge_to);
	{
		uint32_t *fill = xreallocarray(NULL, m->nstates, sizeof *fill);

		memcpy(fill, start, m->nstates * sizeof *fill);
		for (i = 0; i < m->words.n; i++) {
			if (m->root[i] == MATCH_NONE)
				continue;
			e = fill[0]++;
			edge_sym[e] = i;
			edge_to[e] = m->root[i];
		}
		for (k = 0; k < m->go.cap; k++) {
			if (m->go.slots[k].val == 0)
				continue;
			s = (uint32_t)(m->go.slots[k].key >> 32);
			e = fill[s]++;
			edge_sym[e] = (uint32_t)m->go.slots[k].key;
			edge_to[e] = m->go.slots[k].val - 1;
		}
		free(fill);
	}

	m->fail = xreallocarray(NULL, m->nstates, sizeof *m->fail);
	m->dict = xreallocarray(NULL, m->nstates, sizeof *m->dict);
	m->star_link = xreallocarray(NULL, m->nstates, sizeof *m->star_link);
	queue = xreallocarray(NULL, m->nstates, sizeof *queue);

	m->fail[0] = 0;
	m->dict[0] = MATCH_NONE;
	m->star_link[0] = m->has_star[0] ? 0 : MATCH_NONE;
	queue[tail++] = 0;
	while (head < tail) {
		s = queue[head++];
		for (e = start[s]; e < start[s + 1]; e++) {
			sym = edge_sym[e];
			t = edge_to[e];
			if (s == 0)
				m->fail[t] = 0;
			else {
				f = m->fail[s];
				while (f != 0 &&
				       match_goto(m, f, sym) == MATCH_NONE)
					f = m->fail[f];
				f = match_goto(m, f, sym);
				m->fail[t] =
				    (f == MATCH_NONE || f == t) ? 0 : f;
			}
			f = m->fail[t];
			m->dict[t] = match_has_output(m, f) ? f : m->dict[f];
			m->star_link[t] = m->has_star[t] ? t : m->star_link[f];
			queue[tail++] = t;
		}
	}
	free(queue);
	free(start);
	free(edge_sym);
	free(edge_to);
}

size_t
match_npatterns(const struct match *m)
{
	return m->npatterns;
}

static void
match_report_state(
    const struct match *m, uint32_t s, match_hit_cb cb, void *arg)
{
	uint32_t i;

	for (i = m->out_start[s]; i < m->out_start[s + 1]; i++)
		cb(m->outs[i].id, m->outs[i].nwords, arg);
}

static void
match_report(const struct match_outlist *l, match_hit_cb cb, void *arg)
{
	uint32_t i;

	for (i = 0; i < l->n; i++)
		cb(l->v[i].id, l->v[i].nwords, arg);
}

/*
 * Star patterns ending at this word: walk the word through the trie of
 * prefix words, and for each one it starts with, check the star edges of the
 * states on the failure chain.
 */
static void
match_feed_stars(const struct match *m, uint32_t prev, const char *word,
    size_t len, match_hit_cb cb, void *arg)
{
	uint32_t node = 0, t, list, sym;
	size_t k;

	for (k = 0; k < len; k++) {
		node = match_map_get(
		    &m->trie, (uint64_t)node << 8 | (unsigned char)word[k]);
		if (node == MATCH_NONE)
			return;
		if (m->trie_star[node] == 0)
			continue;
		sym = m->trie_star[node] - 1;
		for (t = m->star_link[prev]; t != MATCH_NONE;
		     t = t == 0 ? MATCH_NONE : m->star_link[m->fail[t]]) {
			list = match_map_get(&m->star_edges, match_key(t, sym));
			if (list != MATCH_NONE)
				match_report(&m->star_outs[list], cb, arg);
		}
	}
}

void
match_feed(const struct match *m, struct match_state *st, const char *word,
    size_t len, match_hit_cb cb, void *arg)
{
	uint32_t s = st->state, sym, next;

	if (m->stars.n > 0 && m->star_link[s] != MATCH_NONE)
		match_feed_stars(m, s, word, len, cb, arg);

	sym = match_dict_find(&m->words, word, len);
	if (sym == MATCH_NONE) {
		st->state = 0;
		return;
	}
	while ((next = match_goto(m, s, sym)) == MATCH_NONE && s != 0)
		s = m->fail[s];
	s = next == MATCH_NONE ? 0 : next;
	st->state = s;
	for (; s != MATCH_NONE && s != 0; s = m->dict[s]) {
		match_report_state(m, s, cb, arg);
	}
}
