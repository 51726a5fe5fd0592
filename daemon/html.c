/*
 * HTML to text: a forgiving tokenizer after the HTML5 one, reduced to what
 * text extraction needs.  There is no tree: a few flags and counters say
 * whether text is shown, and block-level tags end the current line.  Every
 * construct is scanned once from left to right, so the time is linear in the
 * input whatever it holds.
 *
 * Where HTML5 and the text a reader sees part, the reader wins, and where
 * feeds carry XHTML, XML's reading wins: CDATA sections are text, a
 * self-closing "<script/>" or "<iframe/>" has no content, and text inside
 * <head> is dropped rather than starting the body.
 */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "html.h"
#include "xmalloc.h"

/* What a tag does to the text. */
#define HTML_BLOCK     0x01 /* ends a line, start or end tag */
#define HTML_HEAD      0x02 /* may appear in <head> without ending it */
#define HTML_RAW       0x04 /* raw text up to its end tag, dropped */
#define HTML_RAW_SHOW  0x08 /* raw text up to its end tag, shown */
#define HTML_RCDATA    0x10 /* text with references up to its end tag */
#define HTML_PLAINTEXT 0x20 /* the rest of the input is raw text */

/* Tags with a special role, by name. */
enum html_tag_id {
	HTML_TAG_OTHER,
	HTML_TAG_BODY,
	HTML_TAG_BR,
	HTML_TAG_HEAD,
	HTML_TAG_HTML,
	HTML_TAG_LINK,
	HTML_TAG_META,
	HTML_TAG_TEMPLATE,
	HTML_TAG_TITLE,
};

struct html_tag_def {
	const char *name;
	enum html_tag_id id;
	int flags;
};

/* Sorted by name, for bsearch.  Tags not listed are inline. */
static const struct html_tag_def html_tag_defs[] = {
    {"address", HTML_TAG_OTHER, HTML_BLOCK},
    {"article", HTML_TAG_OTHER, HTML_BLOCK},
    {"aside", HTML_TAG_OTHER, HTML_BLOCK},
    {"base", HTML_TAG_OTHER, HTML_HEAD},
    {"basefont", HTML_TAG_OTHER, HTML_HEAD},
    {"bgsound", HTML_TAG_OTHER, HTML_HEAD},
    {"blockquote", HTML_TAG_OTHER, HTML_BLOCK},
    {"body", HTML_TAG_BODY, HTML_BLOCK},
    {"br", HTML_TAG_BR, HTML_BLOCK},
    {"caption", HTML_TAG_OTHER, HTML_BLOCK},
    {"center", HTML_TAG_OTHER, HTML_BLOCK},
    {"dd", HTML_TAG_OTHER, HTML_BLOCK},
    {"details", HTML_TAG_OTHER, HTML_BLOCK},
    {"dialog", HTML_TAG_OTHER, HTML_BLOCK},
    {"dir", HTML_TAG_OTHER, HTML_BLOCK},
    {"div", HTML_TAG_OTHER, HTML_BLOCK},
    {"dl", HTML_TAG_OTHER, HTML_BLOCK},
    {"dt", HTML_TAG_OTHER, HTML_BLOCK},
    {"fieldset", HTML_TAG_OTHER, HTML_BLOCK},
    {"figcaption", HTML_TAG_OTHER, HTML_BLOCK},
    {"figure", HTML_TAG_OTHER, HTML_BLOCK},
    {"footer", HTML_TAG_OTHER, HTML_BLOCK},
    {"form", HTML_TAG_OTHER, HTML_BLOCK},
    {"frame", HTML_TAG_OTHER, HTML_BLOCK},
    {"frameset", HTML_TAG_OTHER, HTML_BLOCK},
    {"h1", HTML_TAG_OTHER, HTML_BLOCK},
    {"h2", HTML_TAG_OTHER, HTML_BLOCK},
    {"h3", HTML_TAG_OTHER, HTML_BLOCK},
    {"h4", HTML_TAG_OTHER, HTML_BLOCK},
    {"h5", HTML_TAG_OTHER, HTML_BLOCK},
    {"h6", HTML_TAG_OTHER, HTML_BLOCK},
    {"head", HTML_TAG_HEAD, HTML_BLOCK | HTML_HEAD},
    {"header", HTML_TAG_OTHER, HTML_BLOCK},
    {"hgroup", HTML_TAG_OTHER, HTML_BLOCK},
    {"hr", HTML_TAG_OTHER, HTML_BLOCK},
    {"html", HTML_TAG_HTML, HTML_BLOCK | HTML_HEAD},
    {"iframe", HTML_TAG_OTHER, HTML_BLOCK | HTML_RAW},
    {"legend", HTML_TAG_OTHER, HTML_BLOCK},
    {"li", HTML_TAG_OTHER, HTML_BLOCK},
    {"link", HTML_TAG_LINK, HTML_HEAD},
    {"listing", HTML_TAG_OTHER, HTML_BLOCK},
    {"main", HTML_TAG_OTHER, HTML_BLOCK},
    {"menu", HTML_TAG_OTHER, HTML_BLOCK},
    {"meta", HTML_TAG_META, HTML_HEAD},
    {"nav", HTML_TAG_OTHER, HTML_BLOCK},
    {"noembed", HTML_TAG_OTHER, HTML_RAW},
    {"noframes", HTML_TAG_OTHER, HTML_RAW | HTML_HEAD},
    {"noscript", HTML_TAG_OTHER, HTML_RAW | HTML_HEAD},
    {"ol", HTML_TAG_OTHER, HTML_BLOCK},
    {"optgroup", HTML_TAG_OTHER, HTML_BLOCK},
    {"option", HTML_TAG_OTHER, HTML_BLOCK},
    {"p", HTML_TAG_OTHER, HTML_BLOCK},
    {"plaintext", HTML_TAG_OTHER, HTML_BLOCK | HTML_PLAINTEXT},
    {"pre", HTML_TAG_OTHER, HTML_BLOCK},
    {"script", HTML_TAG_OTHER, HTML_RAW | HTML_HEAD},
    {"search", HTML_TAG_OTHER, HTML_BLOCK},
    {"section", HTML_TAG_OTHER, HTML_BLOCK},
    {"select", HTML_TAG_OTHER, HTML_BLOCK},
    {"style", HTML_TAG_OTHER, HTML_RAW | HTML_HEAD},
    {"summary", HTML_TAG_OTHER, HTML_BLOCK},
    {"table", HTML_TAG_OTHER, HTML_BLOCK},
    {"tbody", HTML_TAG_OTHER, HTML_BLOCK},
    {"td", HTML_TAG_OTHER, HTML_BLOCK},
    {"template", HTML_TAG_TEMPLATE, HTML_HEAD},
    {"textarea", HTML_TAG_OTHER, HTML_BLOCK | HTML_RCDATA},
    {"tfoot", HTML_TAG_OTHER, HTML_BLOCK},
    {"th", HTML_TAG_OTHER, HTML_BLOCK},
    {"thead", HTML_TAG_OTHER, HTML_BLOCK},
    {"title", HTML_TAG_TITLE, HTML_HEAD | HTML_RCDATA},
    {"tr", HTML_TAG_OTHER, HTML_BLOCK},
    {"ul", HTML_TAG_OTHER, HTML_BLOCK},
    {"xmp", HTML_TAG_OTHER, HTML_BLOCK | HTML_RAW_SHOW},
};
#define HTML_TAG_NAME_MAX 16

/* The attributes that meta needs. */
enum html_attr_id {
	HTML_ATTR_CONTENT,
	HTML_ATTR_HREF,
	HTML_ATTR_NAME,
	HTML_ATTR_PROPERTY,
	HTML_ATTR_REL,
	HTML_ATTR_COUNT,
};

static const char *const html_attr_names[HTML_ATTR_COUNT] = {
    [HTML_ATTR_CONTENT] = "content",
    [HTML_ATTR_HREF] = "href",
    [HTML_ATTR_NAME] = "name",
    [HTML_ATTR_PROPERTY] = "property",
    [HTML_ATTR_REL] = "rel",
};

struct html_span {
	const char *s; /* NULL if absent */
	size_t n;
};

/* A tag as tokenized: what its name is, and a few of its attributes. */
struct html_tag {
	const struct html_tag_def *def; /* NULL for inline tags */
	int self_closing;
	struct html_span attrs[HTML_ATTR_COUNT];
};

/* Text being written with white space collapsed and lines trimmed. */
struct html_text {
	struct buf *b;
	int line;  /* the current line has text */
	int space; /* a space is due before the next text on this line */
};

struct html_parser {
	const char *end;
	struct html_text text;
	struct html_meta *meta;
	int in_head;
	size_t template_depth;
	struct buf ref; /* a decoded character reference */
};

/* HTML5 maps these numeric references to what windows-1252 means by them. */
static const unsigned short html_c1[32] = {
    0x20ac,
    0x0081,
    0x201a,
    0x0192,
    0x201e,
    0x2026,
    0x2020,
    0x2021,
    0x02c6,
    0x2030,
    0x0160,
    0x2039,
    0x0152,
    0x008d,
    0x017d,
    0x008f,
    0x0090,
    0x2018,
    0x2019,
    0x201c,
    0x201d,
    0x2022,
    0x2013,
    0x2014,
    0x02dc,
    0x2122,
    0x0161,
    0x203a,
    0x0153,
    0x009d,
    0x017e,
    0x0178,
};

/* Longest legacy name without ';' ("middot", "frac12", ...). */
#define HTML_LEGACY_MAX 6
/* Longer than any name: scanning further cannot find a match. */
#define HTML_ENTITY_SCAN 64

static int
html_is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

static int
html_is_alpha(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

static int
html_is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static int
html_is_alnum(char c)
{
	return html_is_alpha(c) || html_is_digit(c);
}

static char
html_lower(char c)
{
	return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
}

/* ASCII case-insensitive comparison of s[0..n) with the lower-case lc. */
static int
html_eq_lower(const char *s, size_t n, const char *lc)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (lc[i] == '\0' || html_lower(s[i]) != lc[i])
			return 0;
	}
	return lc[n] == '\0';
}

static int
html_tag_def_cmp(const void *key, const void *elem)
{
	const struct html_tag_def *d = elem;

	return strcmp(key, d->name);
}

static const struct html_tag_def *
html_tag_def_find(const char *name, size_t n)
{
	char lc[HTML_TAG_NAME_MAX + 1];
	size_t i;

	if (n > HTML_TAG_NAME_MAX)
		return NULL;
	for (i = 0; i < n; i++)
		lc[i] = html_lower(name[i]);
	lc[n] = '\0';
	return bsearch(lc, html_tag_defs,
	    sizeof html_tag_defs / sizeof html_tag_defs[0],
	    sizeof html_tag_defs[0], html_tag_def_cmp);
}

/*
 * Compare the name key[0..n) with a NUL-terminated table name, in the byte
 * order that strcmp gives, which is the order of html_entities.
 */
static int
html_entity_cmp(const char *key, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (name[i] == '\0')
			return 1;
		if (key[i] != name[i])
			return (unsigned char)key[i] < (unsigned char)name[i]
			           ? -1
			           : 1;
	}
	return name[n] == '\0' ? 0 : -1;
}

static const struct html_entity *
html_entity_find(const char *key, size_t n)
{
	size_t lo = 0, hi = html_nentities, mid;
	int c;

	while (lo < hi) {
		mid = lo + (hi - lo) / 2;
		c = html_entity_cmp(key, n, html_entities[mid].name);
		if (c == 0)
			return &html_entities[mid];
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return NULL;
}

/* A numeric reference, "&#" already seen at s[0..2). */
static size_t
html_decode_numeric(const char *s, size_t n, struct buf *out)
{
	size_t i = 2, start;
	unsigned long v = 0;
	int hex = 0, d;

	if (i < n && (s[i] == 'x' || s[i] == 'X')) {
		hex = 1;
		i++;
	}
	start = i;
	for (; i < n; i++) {
		if (html_is_digit(s[i]))
			d = s[i] - '0';
		else if (hex && html_lower(s[i]) >= 'a' &&
		         html_lower(s[i]) <= 'f')
			d = html_lower(s[i]) - 'a' + 10;
		else
			break;
		/* Saturate: any value past U+10FFFF gives U+FFFD. */
		if (v <= 0x10ffff)
			v = v * (hex ? 16 : 10) + (unsigned long)d;
	}
	if (i == start)
		return 0;
	if (i < n && s[i] == ';')
		i++;

	if (v == 0 || v > 0x10ffff || (v >= 0xd800 && v <= 0xdfff))
		v = 0xfffd;
	else if (v >= 0x80 && v <= 0x9f)
		v = html_c1[v - 0x80];
	buf_add_utf8(out, (int)v);
	return i;
}

size_t
html_decode_ref(const char *s, size_t n, struct buf *out, int in_attr)
{
	const struct html_entity *e = NULL;
	const char *name = s + 1;
	size_t run, len;

	if (n < 2 || s[0] != '&')
		return 0;
	if (s[1] == '#')
		return html_decode_numeric(s, n, out);

	/*
	 * The longest name in the table that the input starts with.  A name
	 * with ';' can only be the whole alphanumeric run and its ';'; a
	 * shorter match is one of the legacy names without ';'.
	 */
	for (run = 0; run < n - 1 && run < HTML_ENTITY_SCAN; run++) {
		if (!html_is_alnum(name[run]))
			break;
	}
	if (run == 0)
		return 0;
	if (run < n - 1 && name[run] == ';')
		e = html_entity_find(name, run + 1);
	if (e != NULL)
		len = run + 1;
	else {
		for (len = run < HTML_LEGACY_MAX ? run : HTML_LEGACY_MAX;
		     len > 0; len--) {
			if ((e = html_entity_find(name, len)) != NULL)
				break;
		}
		if (e == NULL)
			return 0;
		/* In an attribute, "&amp=" or "&copyx" stays as written. */
		if (in_attr && len < n - 1 &&
		    (name[len] == '=' || html_is_alnum(name[len])))
			return 0;
	}
	buf_add_utf8(out, (int)e->cp1);
	if (e->cp2 != 0)
		buf_add_utf8(out, (int)e->cp2);
	return 1 + len;
}

/* Decode s[0..n) into out, with or without the attribute-value rule. */
static void
html_decode(const char *s, size_t n, struct buf *out, int in_attr)
{
	const char *end = s + n, *amp;
	size_t used;

	while (s < end) {
		amp = memchr(s, '&', (size_t)(end - s));
		if (amp == NULL) {
			buf_add(out, s, (size_t)(end - s));
			break;
		}
		buf_add(out, s, (size_t)(amp - s));
		used = html_decode_ref(amp, (size_t)(end - amp), out, in_attr);
		if (used == 0) {
			buf_add_byte(out, '&');
			used = 1;
		}
		s = amp + used;
	}
}

void
html_decode_text(const char *s, size_t n, struct buf *out)
{
	html_decode(s, n, out, 0);
}

/*
 * Append s[0..n) to the text: runs of ASCII white space become one space,
 * but only between words of one line, so lines come out trimmed.  A NUL
 * becomes U+FFFD so that the text stays usable as a C string.
 */
static void
html_text_add(struct html_text *t, const char *s, size_t n)
{
	size_t i = 0, j;

	while (i < n) {
		if (html_is_space(s[i])) {
			if (t->line)
				t->space = 1;
			i++;
			continue;
		}
		if (t->space) {
			buf_add_byte(t->b, ' ');
			t->space = 0;
		}
		t->line = 1;
		if (s[i] == '\0') {
			buf_add_utf8(t->b, 0xfffd);
			i++;
			continue;
		}
		for (j = i; j < n && s[j] != '\0' && !html_is_space(s[j]); j++)
			;
		buf_add(t->b, s + i, j - i);
		i = j;
	}
}

/* End the current line, if it has text: never an empty line. */
static void
html_text_break(struct html_text *t)
{
	if (t->line)
		buf_add_byte(t->b, '\n');
	t->line = 0;
	t->space = 0;
}

/* Append s[0..n) to the text, decoding character references. */
static void
html_text_add_decoded(
    struct html_text *t, const char *s, size_t n, struct buf *ref)
{
	const char *end = s + n, *amp;
	size_t used;

	while (s < end) {
		amp = memchr(s, '&', (size_t)(end - s));
		if (amp == NULL) {
			html_text_add(t, s, (size_t)(end - s));
			break;
		}
		html_text_add(t, s, (size_t)(amp - s));
		buf_reset(ref);
		used = html_decode_ref(amp, (size_t)(end - amp), ref, 0);
		if (used == 0) {
			html_text_add(t, "&", 1);
			used = 1;
		} else
			html_text_add(t, ref->data, ref->len);
		s = amp + used;
	}
}

static int
html_hidden(const struct html_parser *hp)
{
	return hp->in_head || hp->template_depth > 0;
}

/*
 * Where the raw text or RCDATA of element name ends: the first "</name"
 * followed by white space, '/' or '>', any case; end if there is none.
 */
static const char *
html_find_end_tag(const char *p, const char *end, const char *name)
{
	size_t len = strlen(name);

	while ((p = memchr(p, '<', (size_t)(end - p))) != NULL) {
		if ((size_t)(end - p) > len + 2 && p[1] == '/' &&
		    html_eq_lower(p + 2, len, name)) {
			if (html_is_space(p[2 + len]) || p[2 + len] == '/' ||
			    p[2 + len] == '>')
				return p;
		}
		p++;
	}
	return end;
}

/*
 * Comments end as HTML5 says: at "-->" or "--!>", or right away for
 * "<!-->" and "<!--->", or at the end of the input.  p follows "<!--".
 */
static const char *
html_skip_comment(const char *p, const char *end)
{
	size_t dashes = 0, n = (size_t)(end - p);

	if (n >= 1 && p[0] == '>')
		return p + 1;
	if (n >= 2 && p[0] == '-' && p[1] == '>')
		return p + 2;
	for (; p < end; p++) {
		if (*p == '-') {
			dashes++;
			continue;
		}
		if (dashes >= 2 && *p == '>')
			return p + 1;
		if (dashes >= 2 && *p == '!' && end - p >= 2 && p[1] == '>')
			return p + 2;
		dashes = 0;
	}
	return end;
}

/* Doctypes, "<?...>" and other bogus comments end at the first '>'. */
static const char *
html_skip_bogus(const char *p, const char *end)
{
	const char *gt;

	gt = memchr(p, '>', (size_t)(end - p));
	return gt == NULL ? end : gt + 1;
}

static void
html_tag_set_attr(struct html_tag *t, const char *name, size_t namelen,
    const char *value, size_t valuelen)
{
	int i;

	for (i = 0; i < HTML_ATTR_COUNT; i++) {
		if (!html_eq_lower(name, namelen, html_attr_names[i]))
			continue;
		/* The first of duplicate attributes counts. */
		if (t->attrs[i].s == NULL) {
			t->attrs[i].s = value;
			t->attrs[i].n = valuelen;
		}
		return;
	}
}

/*
 * Tokenize a tag whose name starts at p, through its '>', as the HTML5
 * tag, attribute name and attribute value states do: quoted values may hold
 * '>'.  Returns what follows the tag, or NULL if the input ends inside it
 * (HTML5 then drops the tag).
 */
static const char *
html_parse_tag(const char *p, const char *end, struct html_tag *t)
{
	const char *name = p, *an, *av;
	size_t anl;
	char q;

	while (p < end && !html_is_space(*p) && *p != '/' && *p != '>')
		p++;
	t->def = html_tag_def_find(name, (size_t)(p - name));

	for (;;) {
		while (p < end && (html_is_space(*p) || *p == '/')) {
			if (*p == '/' && end - p >= 2 && p[1] == '>') {
				t->self_closing = 1;
				return p + 2;
			}
			p++;
		}
		if (p == end)
			return NULL;
		if (*p == '>')
			return p + 1;

		/* An attribute name; a leading '=' is part of it. */
		an = p++;
		while (p < end && !html_is_space(*p) && *p != '/' &&
		       *p != '>' && *p != '=')
			p++;
		anl = (size_t)(p - an);
		while (p < end && html_is_space(*p))
			p++;
		if (p == end || *p != '=') {
			html_tag_set_attr(t, an, anl, "", 0);
			continue;
		}
		p++;
		while (p < end && html_is_space(*p))
			p++;
		if (p == end)
			return NULL;
		if (*p == '"' || *p == '\'') {
			q = *p++;
			av = p;
			if ((p = memchr(p, q, (size_t)(end - p))) == NULL)
				return NULL;
			html_tag_set_attr(t, an, anl, av, (size_t)(p - av));
			p++;
		} else {
			av = p;
			while (p < end && !html_is_space(*p) && *p != '>')
				p++;
			html_tag_set_attr(t, an, anl, av, (size_t)(p - av));
		}
	}
}

/* An attribute value, decoded and trimmed; NULL if absent or empty. */
static char *
html_attr_value(const struct html_span *a)
{
	struct buf b;
	size_t start = 0, end;
	char *s;

	if (a->s == NULL)
		return NULL;
	buf_init(&b);
	html_decode(a->s, a->n, &b, 1);
	end = b.len;
	while (start < end && html_is_space(b.data[start]))
		start++;
	while (end > start && html_is_space(b.data[end - 1]))
		end--;
	s = end > start ? xstrndup(b.data + start, end - start) : NULL;
	buf_release(&b);
	return s;
}

/* Whether a rel value, a list of link types, holds "canonical". */
static int
html_rel_is_canonical(const struct html_span *rel)
{
	const char *p = rel->s, *end = rel->s + rel->n, *w;

	while (p < end) {
		while (p < end && html_is_space(*p))
			p++;
		w = p;
		while (p < end && !html_is_space(*p))
			p++;
		if (p > w && html_eq_lower(w, (size_t)(p - w), "canonical"))
			return 1;
	}
	return 0;
}

static void
html_tag_meta(struct html_parser *hp, const struct html_tag *t)
{
	struct html_meta *m = hp->meta;
	const struct html_span *prop;

	if (m == NULL || hp->template_depth > 0)
		return;
	if (t->def->id == HTML_TAG_LINK && m->link == NULL &&
	    t->attrs[HTML_ATTR_REL].s != NULL &&
	    html_rel_is_canonical(&t->attrs[HTML_ATTR_REL]))
		m->link = html_attr_value(&t->attrs[HTML_ATTR_HREF]);
	if (t->def->id == HTML_TAG_META && m->published == NULL) {
		prop = &t->attrs[HTML_ATTR_PROPERTY];
		if (prop->s == NULL)
			prop = &t->attrs[HTML_ATTR_NAME];
		if (prop->s != NULL &&
		    html_eq_lower(prop->s, prop->n, "article:published_time"))
			m->published =
			    html_attr_value(&t->attrs[HTML_ATTR_CONTENT]);
	}
}

/* The first <title> outside templates goes to meta, collapsed. */
static void
html_title(struct html_parser *hp, const char *s, size_t n)
{
	struct buf b;
	struct html_text t = {&b, 0, 0};

	if (hp->meta == NULL || hp->meta->title != NULL ||
	    hp->template_depth > 0)
		return;
	buf_init(&b);
	html_text_add_decoded(&t, s, n, &hp->ref);
	if (b.len > 0)
		hp->meta->title = buf_detach(&b, NULL);
	buf_release(&b);
}

/*
 * Text-level effects of a start tag.  <head> hides text until </head>,
 * <body> or the first tag that cannot be in a head, so that a missing
 * </head> does not hide the page.  Elements whose content is raw text are
 * read here, up to their end tag; a self-closing one ("<script/>", as XHTML
 * in feeds writes it) has no content.  Returns where tokenizing goes on.
 */
static const char *
html_start_tag(struct html_parser *hp, const struct html_tag *t, const char *p)
{
	const struct html_tag_def *d = t->def;
	const char *close;

	if (d == NULL || !(d->flags & HTML_HEAD))
		hp->in_head = 0;
	if (d == NULL)
		return p;
	if (d->id == HTML_TAG_BODY)
		hp->in_head = 0;
	if ((d->flags & HTML_BLOCK) && !html_hidden(hp))
		html_text_break(&hp->text);
	if (d->id == HTML_TAG_HEAD && !t->self_closing)
		hp->in_head = 1;
	if (d->id == HTML_TAG_TEMPLATE && !t->self_closing)
		hp->template_depth++;
	if (d->id == HTML_TAG_LINK || d->id == HTML_TAG_META)
		html_tag_meta(hp, t);

	if (d->flags & HTML_PLAINTEXT) {
		if (!html_hidden(hp))
			html_text_add(&hp->text, p, (size_t)(hp->end - p));
		return hp->end;
	}
	if (!(d->flags & (HTML_RAW | HTML_RAW_SHOW | HTML_RCDATA)) ||
	    t->self_closing)
		return p;
	close = html_find_end_tag(p, hp->end, d->name);
	if (d->id == HTML_TAG_TITLE)
		html_title(hp, p, (size_t)(close - p));
	else if (!html_hidden(hp) && (d->flags & HTML_RCDATA))
		html_text_add_decoded(
		    &hp->text, p, (size_t)(close - p), &hp->ref);
	else if (!html_hidden(hp) && (d->flags & HTML_RAW_SHOW))
		html_text_add(&hp->text, p, (size_t)(close - p));
	return close;
}

static void
html_end_tag(struct html_parser *hp, const struct html_tag *t)
{
	const struct html_tag_def *d = t->def;

	if (d == NULL)
		return;
	switch (d->id) {
	case HTML_TAG_HEAD:
	case HTML_TAG_BODY:
	case HTML_TAG_HTML:
	case HTML_TAG_BR:
		hp->in_head = 0;
		break;
	case HTML_TAG_TEMPLATE:
		if (hp->template_depth > 0)
			hp->template_depth--;
		break;
	default:
		break;
	}
	if ((d->flags & HTML_BLOCK) && !html_hidden(hp))
		html_text_break(&hp->text);
}

/* Markup at p (p[0] == '<'): returns where text goes on. */
static const char *
html_markup(struct html_parser *hp, const char *p)
{
	const char *end = hp->end, *next, *close;
	struct html_tag t;
	size_t n = (size_t)(end - p);

	memset(&t, 0, sizeof t);
	if (n >= 2 && html_is_alpha(p[1])) {
		if ((next = html_parse_tag(p + 1, end, &t)) == NULL)
			return end;
		return html_start_tag(hp, &t, next);
	}
	if (n >= 3 && p[1] == '/' && html_is_alpha(p[2])) {
		if ((next = html_parse_tag(p + 2, end, &t)) == NULL)
			return end;
		html_end_tag(hp, &t);
		return next;
	}
	if (n >= 3 && p[1] == '/' && p[2] == '>')
		return p + 3;
	if (n >= 3 && p[1] == '/')
		return html_skip_bogus(p + 2, end);
	if (n >= 4 && memcmp(p, "<!--", 4) == 0)
		return html_skip_comment(p + 4, end);
	if (n >= 9 && memcmp(p, "<![CDATA[", 9) == 0) {
		p += 9;
		close = memmem(p, (size_t)(end - p), "]]>", 3);
		if (close == NULL)
			close = end;
		if (!html_hidden(hp))
			html_text_add(&hp->text, p, (size_t)(close - p));
		return close == end ? end : close + 3;
	}
	if (n >= 2 && (p[1] == '!' || p[1] == '?'))
		return html_skip_bogus(p + 2, end);
	/* A '<' that starts no markup, "</" at the end included, is text. */
	next = n >= 2 && p[1] == '/' ? p + 2 : p + 1;
	if (!html_hidden(hp))
		html_text_add(&hp->text, p, (size_t)(next - p));
	return next;
}

void
html_extract(
    const char *html, size_t len, struct buf *out, struct html_meta *meta)
{
	struct html_parser hp;
	const char *p, *lt;

	if (html == NULL || len == 0) {
		html = "";
		len = 0;
	}
	p = html;
	memset(&hp, 0, sizeof hp);
	hp.end = html + len;
	hp.text.b = out;
	hp.meta = meta;
	buf_init(&hp.ref);
	if (meta != NULL)
		memset(meta, 0, sizeof *meta);

	while (p < hp.end) {
		lt = memchr(p, '<', (size_t)(hp.end - p));
		if (lt == NULL)
			lt = hp.end;
		if (!html_hidden(&hp))
			html_text_add_decoded(
			    &hp.text, p, (size_t)(lt - p), &hp.ref);
		if (lt == hp.end)
			break;
		p = html_markup(&hp, lt);
	}
	buf_release(&hp.ref);
	/* The text is used as a C string too: make sure it has its NUL. */
	if (out->data == NULL)
		buf_add(out, "", 0);
}

void
html_meta_release(struct html_meta *meta)
{
	if (meta == NULL)
		return;
	free(meta->title);
	free(meta->link);
	free(meta->published);
	memset(meta, 0, sizeof *meta);
}
