/*
 * Rules: parsing a `when` expression into a tree and evaluating it over one
 * document's hits.
 *
 * The parser is recursive descent over tokens read one at a time, so the
 * first problem in reading order is the one reported.  AND and OR are n-ary
 * nodes rather than left-deep chains, and every '(' and NOT counts towards
 * WL_MAX_RULE_DEPTH, so the tree is never deeper than that bound and the
 * recursive walks below (free, evaluation) cannot exhaust the stack whatever
 * the input.
 *
 * Names are resolved while parsing: an atom is a set of entries, either
 * every entry of one kind (term:*, place:*) or a list of entry indexes (an
 * id, or the entries carrying a tag).
 *
 * Evaluation works on a rule_input: the document's hits sorted by word,
 * grouped per entry and per kind, so that an atom's hits are a sorted list
 * and NEAR is a linear two-pointer walk over two such lists.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "options.h"
#include "rule.h"
#include "xmalloc.h"

/* Largest n in NEAR/n. */
#define RULE_NEAR_MAX 100000

/* Bytes of a token quoted in an error message. */
#define RULE_QUOTE_MAX 40

enum rule_op {
	RULE_ATOM,
	RULE_AND,
	RULE_OR,
	RULE_NOT,
	RULE_NEAR,
};

struct rule_expr {
	enum rule_op op;

	/* RULE_ATOM: every entry of kind, or the entries listed. */
	int any_kind;
	enum watchlist_kind kind;
	uint32_t *ents; /* ascending */
	size_t nents;

	/* AND, OR: two or more operands; NOT: one; NEAR: two. */
	struct rule_expr **sub;
	size_t nsub;
	size_t distance; /* NEAR */
};

enum rule_tok {
	RULE_TOK_END,
	RULE_TOK_LPAREN,
	RULE_TOK_RPAREN,
	RULE_TOK_AND,
	RULE_TOK_OR,
	RULE_TOK_NOT,
	RULE_TOK_NEAR,
	RULE_TOK_WORD,
};

struct rule_token {
	enum rule_tok type;
	size_t start; /* byte offset in when */
	size_t len;
	size_t distance; /* RULE_TOK_NEAR */
};

struct rule_parser {
	const char *when;
	const struct watchlist *wl;
	size_t pos; /* next byte to read */
	struct rule_token tok;
	int depth;
	char *cause;
	size_t errpos;
	char quoted[RULE_QUOTE_MAX + 6]; /* quotes, "..." and NUL added */
};

/* One hit as evaluation sees it. */
struct rule_ref {
	size_t word;
	size_t hit; /* index in the watchlist_hits: tells hits apart */
	uint32_t entry;
};

struct rule_input {
	size_t nentries;
	struct rule_ref *byentry;   /* by entry, then word, then hit */
	size_t *first;              /* entry e: byentry[first[e]..first[e+1]) */
	struct rule_ref *bykind[2]; /* by word, then hit */
	size_t nbykind[2];
	uint32_t *hit_all; /* entries with hits, ascending */
	size_t nhit_all;
	uint32_t *hit_entries[2]; /* the same, of each kind */
	size_t nhit_entries[2];
};

/* The state of one evaluation: the entries collected so far. */
struct rule_eval {
	const struct rule_input *in;
	int collect;
	uint32_t *v;
	size_t n;
	size_t cap;
};

/* A growable list of hits, the operand of a NEAR. */
struct rule_refs {
	struct rule_ref *v;
	size_t n;
	size_t cap;
	size_t sources; /* sorted lists appended: more than one needs a merge */
};

static const char *rule_severity_names[] = {
    [RULE_LOW] = "low",
    [RULE_MEDIUM] = "medium",
    [RULE_HIGH] = "high",
    [RULE_CRITICAL] = "critical",
};
#define RULE_NSEVERITIES                                                       \
	(sizeof rule_severity_names / sizeof rule_severity_names[0])

int
rule_severity_parse(const char *s)
{
	size_t i;

	for (i = 0; i < RULE_NSEVERITIES; i++) {
		if (strcmp(s, rule_severity_names[i]) == 0)
			return (int)i;
	}
	return -1;
}

const char *
rule_severity_name(enum rule_severity sev)
{
	if ((size_t)sev >= RULE_NSEVERITIES)
		return "unknown";
	return rule_severity_names[sev];
}

void
rule_expr_free(struct rule_expr *expr)
{
	size_t i;

	if (expr == NULL)
		return;
	for (i = 0; i < expr->nsub; i++)
		rule_expr_free(expr->sub[i]);
	free(expr->sub);
	free(expr->ents);
	free(expr);
}

void
rule_free(struct rule *r)
{
	size_t i;

	if (r == NULL)
		return;
	free(r->id);
	free(r->when);
	rule_expr_free(r->expr);
	for (i = 0; i < r->nnotify; i++)
		free(r->notify[i]);
	free(r->notify);
	free(r);
}

static struct rule_expr *
rule_expr_new(enum rule_op op)
{
	struct rule_expr *e;

	e = xcalloc(1, sizeof *e);
	e->op = op;
	return e;
}

static void
rule_expr_add(struct rule_expr *e, struct rule_expr *sub)
{
	/* Grow by doubling: a rule may be a long flat list of ORs. */
	if ((e->nsub & (e->nsub - 1)) == 0)
		e->sub = xreallocarray(
		    e->sub, e->nsub == 0 ? 1 : e->nsub * 2, sizeof *e->sub);
	e->sub[e->nsub++] = sub;
}

/* Record the first error; the parser then unwinds, freeing what it built. */
static void
rule_fail(struct rule_parser *p, size_t pos, char *cause)
{
	if (p->cause != NULL) {
		free(cause);
		return;
	}
	p->cause = cause;
	p->errpos = pos;
}

/*
 * A token in quotes as it can be shown in a message: cut to RULE_QUOTE_MAX
 * bytes (on a UTF-8 character boundary) and with control characters
 * replaced, since the expression comes from a file and the message goes to
 * a terminal or the journal.
 */
static const char *
rule_quote(struct rule_parser *p, size_t start, size_t len)
{
	const unsigned char *s = (const unsigned char *)p->when + start;
	size_t n = len, i;
	char *q = p->quoted;

	if (n > RULE_QUOTE_MAX) {
		n = RULE_QUOTE_MAX;
		while (n > 0 && (s[n] & 0xc0) == 0x80)
			n--;
	}
	*q++ = '\'';
	for (i = 0; i < n; i++)
		*q++ = (s[i] < 0x20 || s[i] == 0x7f) ? '?' : (char)s[i];
	if (n < len)
		q = stpcpy(q, "...");
	strcpy(q, "'");
	return p->quoted;
}

static const char *
rule_token_quote(struct rule_parser *p, const struct rule_token *t)
{
	switch (t->type) {
	case RULE_TOK_END:
		return "end of expression";
	case RULE_TOK_LPAREN:
		return "'('";
	case RULE_TOK_RPAREN:
		return "')'";
	default:
		return rule_quote(p, t->start, t->len);
	}
}

static int
rule_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' ||
	       c == '\f';
}

static int
rule_is_id_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-';
}

static int
rule_word_is(const char *s, size_t len, const char *word)
{
	return len == strlen(word) && memcmp(s, word, len) == 0;
}

/*
 * NEAR/n: n is plain decimal digits.  Reading stops adding once the value
 * is past the limit, so any run of digits is read without overflow.
 */
static int
rule_lex_near(struct rule_parser *p, const char *s, size_t len)
{
	size_t i, n = 0;

	/* The lexer saw "NEAR" alone or "NEAR/" and more. */
	for (i = 5; i < len && s[i] >= '0' && s[i] <= '9'; i++) {
		if (n <= RULE_NEAR_MAX)
			n = n * 10 + (size_t)(s[i] - '0');
	}
	if (len < 6 || i < len) {
		rule_fail(
		    p, p->tok.start, xstrdup("NEAR needs a distance: NEAR/n"));
		return -1;
	}
	if (n > RULE_NEAR_MAX) {
		rule_fail(p, p->tok.start,
		    xasprintf("NEAR distance %s is larger than %d",
		        rule_quote(p, p->tok.start + 5, len - 5),
		        RULE_NEAR_MAX));
		return -1;
	}
	p->tok.distance = n;
	return 0;
}

/* Read the next token into p->tok. */
static int
rule_lex(struct rule_parser *p)
{
	const char *w = p->when, *s;
	size_t len;

	while (rule_is_space(w[p->pos]))
		p->pos++;
	memset(&p->tok, 0, sizeof p->tok);
	p->tok.start = p->pos;
	switch (w[p->pos]) {
	case '\0':
		p->tok.type = RULE_TOK_END;
		return 0;
	case '(':
		p->tok.type = RULE_TOK_LPAREN;
		p->tok.len = 1;
		p->pos++;
		return 0;
	case ')':
		p->tok.type = RULE_TOK_RPAREN;
		p->tok.len = 1;
		p->pos++;
		return 0;
	}
	while (w[p->pos] != '\0' && w[p->pos] != '(' && w[p->pos] != ')' &&
	       !rule_is_space(w[p->pos]))
		p->pos++;
	s = w + p->tok.start;
	len = p->tok.len = p->pos - p->tok.start;
	if (rule_word_is(s, len, "AND"))
		p->tok.type = RULE_TOK_AND;
	else if (rule_word_is(s, len, "OR"))
		p->tok.type = RULE_TOK_OR;
	else if (rule_word_is(s, len, "NOT"))
		p->tok.type = RULE_TOK_NOT;
	else if (rule_word_is(s, len, "NEAR") ||
	         (len >= 5 && memcmp(s, "NEAR/", 5) == 0)) {
		p->tok.type = RULE_TOK_NEAR;
		return rule_lex_near(p, s, len);
	} else
		p->tok.type = RULE_TOK_WORD;
	return 0;
}

/* An operator written in the wrong case: and, Or, near/5. */
static int
rule_word_is_miscased_op(const char *s, size_t len)
{
	if ((len == 3 && strncasecmp(s, "and", 3) == 0) ||
	    (len == 2 && strncasecmp(s, "or", 2) == 0) ||
	    (len == 3 && strncasecmp(s, "not", 3) == 0) ||
	    (len == 4 && strncasecmp(s, "near", 4) == 0) ||
	    (len >= 5 && strncasecmp(s, "near/", 5) == 0))
		return 1;
	return 0;
}

/*
 * Whether the current token is a miscased operator that names no entry;
 * if so, fail with the hint.
 */
static int
rule_check_miscased_op(struct rule_parser *p)
{
	const char *s = p->when + p->tok.start;
	char *id;
	int found;

	if (p->tok.type != RULE_TOK_WORD ||
	    !rule_word_is_miscased_op(s, p->tok.len))
		return 0;
	id = xstrndup(s, p->tok.len);
	found = watchlist_find(p->wl, id) != NULL;
	free(id);
	if (found)
		return 0;
	rule_fail(p, p->tok.start,
	    xasprintf(
	        "lower-case operator %s: operators are AND, OR, NOT, NEAR/n",
	        rule_quote(p, p->tok.start, p->tok.len)));
	return 1;
}

/* Where an operator or the end was expected and something else came. */
static void
rule_fail_expected_op(struct rule_parser *p)
{
	if (rule_check_miscased_op(p))
		return;
	rule_fail(p, p->tok.start,
	    xasprintf("expected AND, OR, NEAR/n%s but found %s",
	        p->depth > 0 ? " or ')'" : "", rule_token_quote(p, &p->tok)));
}

/* Where an operand was expected and something else came. */
static void
rule_fail_expected_atom(struct rule_parser *p)
{
	if (rule_check_miscased_op(p))
		return;
	rule_fail(p, p->tok.start,
	    xasprintf("expected an entry, term:*, place:*, tag:NAME or '(' but "
	              "found %s",
	        rule_token_quote(p, &p->tok)));
}

/* The entries carrying a tag, ascending; NULL if none does. */
static uint32_t *
rule_tag_entries(const struct watchlist *wl, const char *tag, size_t *n)
{
	uint32_t *v;
	size_t i, count = watchlist_count(wl);

	v = xcalloc(count, sizeof *v);
	*n = 0;
	for (i = 0; i < count; i++) {
		if (watchlist_entry_has_tag(watchlist_entry(wl, i), tag))
			v[(*n)++] = (uint32_t)i;
	}
	if (*n == 0) {
		free(v);
		return NULL;
	}
	return xreallocarray(v, *n, sizeof *v);
}

/* An id with another letter case, for the "did you mean" of a typo. */
static const char *
rule_find_nocase(const struct watchlist *wl, const char *id)
{
	struct watchlist_entry *e;
	size_t i, count = watchlist_count(wl);

	for (i = 0; i < count; i++) {
		e = watchlist_entry(wl, i);
		if (strcasecmp(e->id, id) == 0)
			return e->id;
	}
	return NULL;
}

/* Resolve a name with a ':' in it: term:*, place:*, tag:NAME. */
static struct rule_expr *
rule_resolve_prefixed(
    struct rule_parser *p, const char *name, const char *colon)
{
	struct rule_expr *e;
	size_t start = p->tok.start, plen = (size_t)(colon - name);
	const char *rest = colon + 1;

	e = rule_expr_new(RULE_ATOM);
	if (plen == 3 && strncmp(name, "tag", 3) == 0) {
		if (*rest == '\0') {
			rule_fail(
			    p, start, xstrdup("tag: needs a name: tag:NAME"));
			goto fail;
		}
		e->ents = rule_tag_entries(p->wl, rest, &e->nents);
		if (e->nents == 0) {
			rule_fail(p, start,
			    xasprintf("no entry has tag %s",
			        rule_quote(p, start + 4, p->tok.len - 4)));
			goto fail;
		}
		return e;
	}
	if (plen == 4 && strncmp(name, "term", 4) == 0) {
		e->any_kind = 1;
		e->kind = WATCHLIST_TERM;
	} else if (plen == 5 && strncmp(name, "place", 5) == 0) {
		e->any_kind = 1;
		e->kind = WATCHLIST_PLACE;
	} else if (strcmp(rest, "*") == 0) {
		rule_fail(p, start,
		    xasprintf("unknown kind %s (use term:* or place:*)",
		        rule_quote(p, start, p->tok.len)));
		goto fail;
	} else {
		rule_fail(p, start,
		    xasprintf("unknown name %s (use an entry id, term:*, "
		              "place:* or tag:NAME)",
		        rule_quote(p, start, p->tok.len)));
		goto fail;
	}
	if (strcmp(rest, "*") != 0) {
		rule_fail(p, start,
		    xasprintf(
		        "%s: write the entry id alone, or %s:* for any %s",
		        rule_quote(p, start, p->tok.len),
		        watchlist_kind_name(e->kind),
		        watchlist_kind_name(e->kind)));
		goto fail;
	}
	return e;
fail:
	rule_expr_free(e);
	return NULL;
}

/* Resolve the current word token to an atom. */
static struct rule_expr *
rule_resolve(struct rule_parser *p)
{
	struct watchlist_entry *we;
	struct rule_expr *e = NULL;
	const char *colon, *other;
	char *name;
	size_t i;

	name = xstrndup(p->when + p->tok.start, p->tok.len);
	if ((colon = strchr(name, ':')) != NULL) {
		e = rule_resolve_prefixed(p, name, colon);
		goto out;
	}
	if ((we = watchlist_find(p->wl, name)) != NULL) {
		e = rule_expr_new(RULE_ATOM);
		e->ents = xmalloc(sizeof *e->ents);
		e->ents[0] = (uint32_t)we->index;
		e->nents = 1;
		goto out;
	}
	if (rule_check_miscased_op(p))
		goto out;
	for (i = 0; name[i] != '\0'; i++) {
		if (rule_is_id_char(name[i]))
			continue;
		if ((unsigned char)name[i] < 0x20 ||
		    (unsigned char)name[i] >= 0x7f)
			rule_fail(p, p->tok.start + i,
			    xasprintf("unexpected byte 0x%02x in %s",
			        (unsigned char)name[i],
			        rule_quote(p, p->tok.start, p->tok.len)));
		else
			rule_fail(p, p->tok.start + i,
			    xasprintf("unexpected character '%c' in %s",
			        name[i],
			        rule_quote(p, p->tok.start, p->tok.len)));
		goto out;
	}
	if ((other = rule_find_nocase(p->wl, name)) != NULL)
		rule_fail(p, p->tok.start,
		    xasprintf("unknown entry %s (ids are case-sensitive: did "
		              "you mean '%s'?)",
		        rule_quote(p, p->tok.start, p->tok.len), other));
	else
		rule_fail(p, p->tok.start,
		    xasprintf("unknown entry %s",
		        rule_quote(p, p->tok.start, p->tok.len)));
out:
	free(name);
	return e;
}

/* Whether e denotes a set of hits, as an operand of NEAR must. */
static int
rule_expr_is_hits(const struct rule_expr *e)
{
	size_t i;

	if (e->op == RULE_ATOM)
		return 1;
	if (e->op != RULE_OR)
		return 0;
	for (i = 0; i < e->nsub; i++) {
		if (!rule_expr_is_hits(e->sub[i]))
			return 0;
	}
	return 1;
}

static void
rule_fail_near_operand(struct rule_parser *p, size_t pos)
{
	rule_fail(p, pos,
	    xstrdup("NEAR operands must be entries, term:*, place:*, tag:NAME "
	            "or an OR of them"));
}

static int
rule_enter(struct rule_parser *p)
{
	if (p->depth >= WL_MAX_RULE_DEPTH) {
		rule_fail(p, p->tok.start,
		    xasprintf("expression nested deeper than %d levels",
		        WL_MAX_RULE_DEPTH));
		return -1;
	}
	p->depth++;
	return 0;
}

static struct rule_expr *rule_parse_or(struct rule_parser *);

/*
 * atom := ID | "term:*" | "place:*" | "tag:" NAME | "(" expr ")"
 *
 * A '(' left open is reported at the '(' itself rather than at the end of
 * the expression: that is where the fix goes.
 */
static struct rule_expr *
rule_parse_atom(struct rule_parser *p)
{
	struct rule_expr *e;
	size_t open;

	switch (p->tok.type) {
	case RULE_TOK_WORD:
		if ((e = rule_resolve(p)) == NULL)
			return NULL;
		if (rule_lex(p) != 0)
			goto fail;
		return e;
	case RULE_TOK_LPAREN:
		open = p->tok.start;
		if (rule_enter(p) != 0 || rule_lex(p) != 0)
			return NULL;
		if (p->tok.type == RULE_TOK_RPAREN) {
			rule_fail(p, open, xstrdup("empty parentheses"));
			return NULL;
		}
		if ((e = rule_parse_or(p)) == NULL)
			return NULL;
		if (p->tok.type == RULE_TOK_END) {
			rule_fail(p, open, xstrdup("missing ')'"));
			goto fail;
		}
		if (p->tok.type != RULE_TOK_RPAREN) {
			rule_fail_expected_op(p);
			goto fail;
		}
		p->depth--;
		if (rule_lex(p) != 0)
			goto fail;
		return e;
	default:
		rule_fail_expected_atom(p);
		return NULL;
	}
fail:
	rule_expr_free(e);
	return NULL;
}

/* near := atom [ "NEAR/" n atom ] */
static struct rule_expr *
rule_parse_near(struct rule_parser *p)
{
	struct rule_expr *left, *right, *e;
	size_t lstart = p->tok.start, rstart;

	if ((left = rule_parse_atom(p)) == NULL)
		return NULL;
	if (p->tok.type != RULE_TOK_NEAR)
		return left;
	if (!rule_expr_is_hits(left)) {
		rule_fail_near_operand(p, lstart);
		rule_expr_free(left);
		return NULL;
	}
	e = rule_expr_new(RULE_NEAR);
	e->distance = p->tok.distance;
	rule_expr_add(e, left);
	if (rule_lex(p) != 0)
		goto fail;
	rstart = p->tok.start;
	if (p->tok.type == RULE_TOK_NOT) {
		rule_fail_near_operand(p, rstart);
		goto fail;
	}
	if ((right = rule_parse_atom(p)) == NULL)
		goto fail;
	rule_expr_add(e, right);
	if (!rule_expr_is_hits(right)) {
		rule_fail_near_operand(p, rstart);
		goto fail;
	}
	if (p->tok.type == RULE_TOK_NEAR) {
		rule_fail(p, p->tok.start,
		    xstrdup("NEAR cannot be chained: write (a NEAR/n b) AND (b "
		            "NEAR/n c)"));
		goto fail;
	}
	return e;
fail:
	rule_expr_free(e);
	return NULL;
}

/*
 * unary := "NOT" unary | near
 *
 * NOT takes a whole NEAR (`NOT a NEAR/5 b` is `NOT (a NEAR/5 b)`), as the
 * grammar says: `NOT a` is no set of hits, so it could not be an operand of
 * NEAR anyway.  Each NOT counts as a level of nesting.
 */
static struct rule_expr *
rule_parse_unary(struct rule_parser *p)
{
	struct rule_expr *e, *sub;

	if (p->tok.type != RULE_TOK_NOT)
		return rule_parse_near(p);
	if (rule_enter(p) != 0 || rule_lex(p) != 0)
		return NULL;
	if ((sub = rule_parse_unary(p)) == NULL)
		return NULL;
	p->depth--;
	e = rule_expr_new(RULE_NOT);
	rule_expr_add(e, sub);
	return e;
}

/*
 * A left-associative chain "sub { OP sub }" as one node with n operands:
 * and := unary { "AND" unary }, or := and { "OR" and }.
 */
static struct rule_expr *
rule_parse_chain(struct rule_parser *p, enum rule_tok op, enum rule_op type,
    struct rule_expr *(*sub)(struct rule_parser *))
{
	struct rule_expr *first, *e, *next;

	if ((first = sub(p)) == NULL)
		return NULL;
	if (p->tok.type != op)
		return first;
	e = rule_expr_new(type);
	rule_expr_add(e, first);
	while (p->tok.type == op) {
		if (rule_lex(p) != 0 || (next = sub(p)) == NULL)
			goto fail;
		rule_expr_add(e, next);
	}
	return e;
fail:
	rule_expr_free(e);
	return NULL;
}

static struct rule_expr *
rule_parse_and(struct rule_parser *p)
{
	return rule_parse_chain(p, RULE_TOK_AND, RULE_AND, rule_parse_unary);
}

static struct rule_expr *
rule_parse_or(struct rule_parser *p)
{
	return rule_parse_chain(p, RULE_TOK_OR, RULE_OR, rule_parse_and);
}

struct rule_expr *
rule_expr_parse(
    const char *when, const struct watchlist *wl, char **cause, size_t *pos)
{
	struct rule_parser p;
	struct rule_expr *e = NULL;

	memset(&p, 0, sizeof p);
	p.when = when;
	p.wl = wl;
	if (rule_lex(&p) != 0)
		goto fail;
	if (p.tok.type == RULE_TOK_END) {
		rule_fail(&p, 0, xstrdup("empty expression"));
		goto fail;
	}
	if ((e = rule_parse_or(&p)) == NULL)
		goto fail;
	if (p.tok.type == RULE_TOK_RPAREN) {
		rule_fail(&p, p.tok.start, xstrdup("unexpected ')'"));
		goto fail;
	}
	if (p.tok.type != RULE_TOK_END) {
		rule_fail_expected_op(&p);
		goto fail;
	}
	return e;
fail:
	rule_expr_free(e);
	*cause = p.cause;
	*pos = p.errpos;
	return NULL;
}

static int
rule_ref_cmp(const void *a, const void *b)
{
	const struct rule_ref *x = a, *y = b;

	if (x->word != y->word)
		return x->word < y->word ? -1 : 1;
	if (x->hit != y->hit)
		return x->hit < y->hit ? -1 : 1;
	return 0;
}

/*
 * Sort the hits by word once; distributing them per entry and per kind in
 * that order keeps every list sorted.
 */
struct rule_input *
rule_input_new(const struct watchlist *wl, const struct watchlist_hits *hits)
{
	struct rule_input *in;
	struct rule_ref *byword;
	size_t *next, i, n = 0, k;
	uint32_t e;

	in = xcalloc(1, sizeof *in);
	in->nentries = watchlist_count(wl);
	byword = xcalloc(hits->n, sizeof *byword);
	for (i = 0; i < hits->n; i++) {
		/* A hit of no entry of this watchlist cannot count. */
		if (hits->v[i].entry >= in->nentries)
			continue;
		byword[n].word = hits->v[i].word;
		byword[n].hit = i;
		byword[n].entry = hits->v[i].entry;
		n++;
	}
	/* The hits come sorted by start, so this is nearly always sorted. */
	for (i = 1; i < n; i++) {
		if (rule_ref_cmp(&byword[i - 1], &byword[i]) > 0) {
			qsort(byword, n, sizeof *byword, rule_ref_cmp);
			break;
		}
	}

	in->first = xcalloc(in->nentries + 1, sizeof *in->first);
	for (i = 0; i < n; i++)
		in->first[byword[i].entry + 1]++;
	for (i = 0; i < in->nentries; i++)
		in->first[i + 1] += in->first[i];
	next = xcalloc(in->nentries + 1, sizeof *next);
	memcpy(next, in->first, in->nentries * sizeof *next);
	in->byentry = xcalloc(n, sizeof *in->byentry);
	for (i = 0; i < n; i++)
		in->byentry[next[byword[i].entry]++] = byword[i];
	free(next);

	for (k = 0; k < 2; k++) {
		in->bykind[k] = xcalloc(n, sizeof *in->bykind[k]);
		in->hit_entries[k] =
		    xcalloc(in->nentries, sizeof *in->hit_entries[k]);
	}
	for (i = 0; i < n; i++) {
		k = watchlist_entry(wl, byword[i].entry)->kind;
		in->bykind[k][in->nbykind[k]++] = byword[i];
	}
	in->hit_all = xcalloc(in->nentries, sizeof *in->hit_all);
	for (e = 0; e < in->nentries; e++) {
		if (in->first[e + 1] == in->first[e])
			continue;
		in->hit_all[in->nhit_all++] = e;
		k = watchlist_entry(wl, e)->kind;
		in->hit_entries[k][in->nhit_entries[k]++] = e;
	}
	free(byword);
	return in;
}

void
rule_input_free(struct rule_input *in)
{
	size_t k;

	if (in == NULL)
		return;
	for (k = 0; k < 2; k++) {
		free(in->bykind[k]);
		free(in->hit_entries[k]);
	}
	free(in->hit_all);
	free(in->byentry);
	free(in->first);
	free(in);
}

static size_t
rule_input_count(const struct rule_input *in, uint32_t e)
{
	return in->first[e + 1] - in->first[e];
}

static int
rule_u32_cmp(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/*
 * The next entry of a list atom that has hits, ascending; *i starts at 0.
 * It walks the shorter of the atom's entries and the document's entries
 * with hits, so that a tag on thousands of entries costs little on a short
 * document.
 */
static int
rule_atom_next(const struct rule_expr *e, const struct rule_input *in,
    size_t *i, uint32_t *ent)
{
	if (e->nents <= in->nhit_all) {
		while (*i < e->nents) {
			*ent = e->ents[(*i)++];
			if (rule_input_count(in, *ent) > 0)
				return 1;
		}
		return 0;
	}
	while (*i < in->nhit_all) {
		*ent = in->hit_all[(*i)++];
		if (bsearch(ent, e->ents, e->nents, sizeof *e->ents,
		        rule_u32_cmp) != NULL)
			return 1;
	}
	return 0;
}

static void
rule_eval_push(struct rule_eval *ev, uint32_t e)
{
	if (ev->n == ev->cap) {
		ev->cap = ev->cap ? ev->cap * 2 : 16;
		ev->v = xreallocarray(ev->v, ev->cap, sizeof *ev->v);
	}
	ev->v[ev->n++] = e;
}

static void
rule_refs_add(struct rule_refs *r, const struct rule_ref *v, size_t n)
{
	if (n == 0)
		return;
	if (r->n + n > r->cap) {
		r->cap = r->n + n > r->cap * 2 ? r->n + n : r->cap * 2;
		r->v = xreallocarray(r->v, r->cap, sizeof *r->v);
	}
	memcpy(r->v + r->n, v, n * sizeof *v);
	r->n += n;
	r->sources++;
}

/* The hits of a NEAR operand (an atom or an OR of them). */
static void
rule_refs_gather(
    struct rule_refs *r, const struct rule_expr *e, const struct rule_input *in)
{
	size_t i;
	uint32_t ent;

	if (e->op == RULE_OR) {
		for (i = 0; i < e->nsub; i++)
			rule_refs_gather(r, e->sub[i], in);
		return;
	}
	if (e->any_kind) {
		rule_refs_add(r, in->bykind[e->kind], in->nbykind[e->kind]);
		return;
	}
	i = 0;
	while (rule_atom_next(e, in, &i, &ent)) {
		rule_refs_add(
		    r, in->byentry + in->first[ent], rule_input_count(in, ent));
	}
}

/*
 * Hits from several lists: sort them by word and drop the repeats, which
 * are adjacent since a hit has one word (term:* OR tag:x may name one hit
 * twice).
 */
static void
rule_refs_finish(struct rule_refs *r)
{
	size_t i, n = 0;

	if (r->sources < 2)
		return;
	qsort(r->v, r->n, sizeof *r->v, rule_ref_cmp);
	for (i = 0; i < r->n; i++) {
		if (n > 0 && r->v[n - 1].hit == r->v[i].hit)
			continue;
		r->v[n++] = r->v[i];
	}
	r->n = n;
}

/* Whether word x is more than d words before w (no overflow near SIZE_MAX). */
static int
rule_word_before(size_t x, size_t w, size_t d)
{
	return x < w && w - x > d;
}

/* Whether word x is more than d words after w. */
static int
rule_word_after(size_t x, size_t w, size_t d)
{
	return x > w && x - w > d;
}

/*
 * For each hit of a, whether some other hit of b starts within d words.
 * Both lists are sorted by word and hold each hit once, so the window of b
 * within d words of a hit only moves forward: [lo, hi).  A window of two or
 * more always holds a hit other than a's own; a window of one must not be
 * that very hit.  With ev->collect off, stop at the first pair.
 */
static int
rule_near_side(const struct rule_refs *a, const struct rule_refs *b, size_t d,
    struct rule_eval *ev)
{
	size_t i, lo = 0, hi = 0, w;
	int holds = 0;

	for (i = 0; i < a->n; i++) {
		w = a->v[i].word;
		while (lo < b->n && rule_word_before(b->v[lo].word, w, d))
			lo++;
		if (hi < lo)
			hi = lo;
		while (hi < b->n && !rule_word_after(b->v[hi].word, w, d))
			hi++;
		if (hi - lo >= 2 ||
		    (hi - lo == 1 && b->v[lo].hit != a->v[i].hit)) {
			holds = 1;
			if (!ev->collect)
				break;
			rule_eval_push(ev, a->v[i].entry);
		}
	}
	return holds;
}

static int
rule_eval_near(const struct rule_expr *e, struct rule_eval *ev)
{
	struct rule_refs a, b;
	int holds = 0;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	rule_refs_gather(&a, e->sub[0], ev->in);
	if (a.n == 0)
		goto out;
	rule_refs_gather(&b, e->sub[1], ev->in);
	if (b.n == 0)
		goto out;
	rule_refs_finish(&a);
	rule_refs_finish(&b);
	holds = rule_near_side(&a, &b, e->distance, ev);
	if (holds && ev->collect)
		rule_near_side(&b, &a, e->distance, ev);
out:
	free(a.v);
	free(b.v);
	return holds;
}

static int
rule_eval_atom(const struct rule_expr *e, struct rule_eval *ev)
{
	const struct rule_input *in = ev->in;
	size_t i;
	uint32_t ent;
	int holds = 0;

	if (e->any_kind) {
		if (ev->collect) {
			for (i = 0; i < in->nhit_entries[e->kind]; i++)
				rule_eval_push(ev, in->hit_entries[e->kind][i]);
		}
		return in->nhit_entries[e->kind] > 0;
	}
	i = 0;
	while (rule_atom_next(e, in, &i, &ent)) {
		holds = 1;
		if (!ev->collect)
			break;
		rule_eval_push(ev, ent);
	}
	return holds;
}

/*
 * Evaluate e, adding to ev the entries that make it hold.  A node that
 * does not hold leaves ev as it found it, so that an OR keeps only what its
 * operands that hold added and an AND that fails can drop what it added.
 */
static int
rule_eval_node(const struct rule_expr *e, struct rule_eval *ev)
{
	size_t i, mark = ev->n;
	int holds, collect;

	switch (e->op) {
	case RULE_ATOM:
		return rule_eval_atom(e, ev);
	case RULE_AND:
		for (i = 0; i < e->nsub; i++) {
			if (!rule_eval_node(e->sub[i], ev)) {
				ev->n = mark;
				return 0;
			}
		}
		return 1;
	case RULE_OR:
		/* With collect on, every operand that holds contributes. */
		holds = 0;
		for (i = 0; i < e->nsub; i++) {
			if (rule_eval_node(e->sub[i], ev)) {
				holds = 1;
				if (!ev->collect)
					break;
			}
		}
		return holds;
	case RULE_NOT:
		/* Nothing under a NOT is reported, so nothing is collected. */
		collect = ev->collect;
		ev->collect = 0;
		holds = rule_eval_node(e->sub[0], ev);
		ev->collect = collect;
		return !holds;
	case RULE_NEAR:
		return rule_eval_near(e, ev);
	}
	return 0;
}

int
rule_expr_eval(const struct rule_expr *expr, const struct rule_input *in,
    uint32_t **entries, size_t *nentries)
{
	struct rule_eval ev;
	size_t i, n = 0;
	int holds;

	memset(&ev, 0, sizeof ev);
	ev.in = in;
	ev.collect = entries != NULL;
	holds = rule_eval_node(expr, &ev);
	if (entries == NULL)
		return holds;
	if (!holds || ev.n == 0) {
		free(ev.v);
		*entries = NULL;
		*nentries = 0;
		return holds;
	}
	qsort(ev.v, ev.n, sizeof *ev.v, rule_u32_cmp);
	for (i = 0; i < ev.n; i++) {
		if (n == 0 || ev.v[n - 1] != ev.v[i])
			ev.v[n++] = ev.v[i];
	}
	*entries = ev.v;
	*nentries = n;
	return holds;
}
