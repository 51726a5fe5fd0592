/*
 * The multi-pattern matcher: an Aho-Corasick automaton whose alphabet is
 * words, not bytes.
 *
 * DESIGN.md's rules make every word of an alias match a whole word of the
 * text (separator runs match separator runs, and hits need word boundaries),
 * except that a trailing '*' lets the last word be a prefix of a text word.
 * So the text is fed one normalised word at a time: a hash table maps the
 * word to a symbol, the automaton steps on the symbol, and the prefix words
 * of '*' patterns are found with a byte trie.  The cost per text word does
 * not depend on the number of patterns.
 *
 * A leaf module: words are opaque byte strings here.
 */
#ifndef WATCHLISTD_MATCH_H
#define WATCHLISTD_MATCH_H

#include <stddef.h>
#include <stdint.h>

struct match;

/* Where a scan is: start each text with MATCH_STATE_INIT. */
struct match_state {
	uint32_t state;
};
#define MATCH_STATE_INIT                                                       \
	{                                                                      \
		0                                                              \
	}

/* A pattern ended at the word just fed; it spans nwords words. */
typedef void (*match_hit_cb)(uint32_t id, uint32_t nwords, void *arg);

struct match *match_new(void);
void match_free(struct match *m);

/*
 * Add a pattern of n >= 1 words (words[i] is lens[i] bytes).  star: the last
 * word matches any text word it is a prefix of.  id is reported on a hit;
 * the same words may be added under several ids.
 */
void match_add(struct match *m, const char *const *words, const size_t *lens,
    size_t n, int star, uint32_t id);

/* Build failure links and output tables; call once, after every match_add. */
void match_compile(struct match *m);

/* Patterns added (each id counted once per add). */
size_t match_npatterns(const struct match *m);

/* Feed the next word of a text; cb is called for each pattern ending here. */
void match_feed(const struct match *m, struct match_state *st, const char *word,
    size_t len, match_hit_cb cb, void *arg);

#endif
