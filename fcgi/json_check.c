/*
 * json_check.c: RFC 8259 syntax, strictly, before json-c sees a body.
 *
 * json-c's strict mode still takes single-quoted strings, NaN and Infinity,
 * and raw control characters inside strings. This recogniser takes exactly
 * the grammar of RFC 8259 (one value, whitespace around it) and nothing
 * else; UTF-8 well-formedness is checked separately.
 */
#include "json_check.h"

struct scan {
	const unsigned char	*p, *end;
};

static int	 value(struct scan *, int);

static void
ws(struct scan *s)
{
	while (s->p < s->end && (*s->p == ' ' || *s->p == '\t' ||
	    *s->p == '\n' || *s->p == '\r'))
		s->p++;
}

static int
digit(const struct scan *s)
{
	return s->p < s->end && *s->p >= '0' && *s->p <= '9';
}

static int
hexdigit(unsigned char c)
{
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}

static int
literal(struct scan *s, const char *word)
{
	for (; *word != '\0'; word++, s->p++)
		if (s->p >= s->end || *s->p != (unsigned char)*word)
			return 0;
	return 1;
}

static int
string(struct scan *s)
{
	int	 i;

	s->p++;				/* the opening quote */
	while (s->p < s->end) {
		unsigned char	 c = *s->p++;

		if (c == '"')
			return 1;
		if (c < 0x20)
			return 0;
		if (c != '\\')
			continue;
		if (s->p >= s->end)
			return 0;
		switch (*s->p++) {
		case '"': case '\\': case '/': case 'b': case 'f': case 'n':
		case 'r': case 't':
			break;
		case 'u':
			for (i = 0; i < 4; i++, s->p++)
				if (s->p >= s->end || !hexdigit(*s->p))
					return 0;
			break;
		default:
			return 0;
		}
	}
	return 0;
}

static int
number(struct scan *s)
{
	if (s->p < s->end && *s->p == '-')
		s->p++;
	if (!digit(s))
		return 0;
	if (*s->p++ != '0')
		while (digit(s))
			s->p++;
	if (s->p < s->end && *s->p == '.') {
		s->p++;
		if (!digit(s))
			return 0;
		while (digit(s))
			s->p++;
	}
	if (s->p < s->end && (*s->p == 'e' || *s->p == 'E')) {
		s->p++;
		if (s->p < s->end && (*s->p == '+' || *s->p == '-'))
			s->p++;
		if (!digit(s))
			return 0;
		while (digit(s))
			s->p++;
	}
	return 1;
}

/* '[' or '{' members ']' or '}'; members are values, or "name": value. */
static int
container(struct scan *s, int depth, int object)
{
	unsigned char	 close = object ? '}' : ']';

	if (depth >= JSON_CHECK_MAX_DEPTH)
		return 0;
	s->p++;
	ws(s);
	if (s->p < s->end && *s->p == close) {
		s->p++;
		return 1;
	}
	for (;;) {
		if (object) {
			if (s->p >= s->end || *s->p != '"' || !string(s))
				return 0;
			ws(s);
			if (s->p >= s->end || *s->p++ != ':')
				return 0;
		}
		if (!value(s, depth + 1))
			return 0;
		if (s->p >= s->end)
			return 0;
		if (*s->p == close) {
			s->p++;
			return 1;
		}
		if (*s->p++ != ',')
			return 0;
		ws(s);
	}
}

/* One value with the whitespace around it. */
static int
value(struct scan *s, int depth)
{
	int	 ok;

	ws(s);
	if (s->p >= s->end)
		return 0;
	switch (*s->p) {
	case '{':
		ok = container(s, depth, 1);
		break;
	case '[':
		ok = container(s, depth, 0);
		break;
	case '"':
		ok = string(s);
		break;
	case 't':
		ok = literal(s, "true");
		break;
	case 'f':
		ok = literal(s, "false");
		break;
	case 'n':
		ok = literal(s, "null");
		break;
	default:
		ok = number(s);
		break;
	}
	ws(s);
	return ok;
}

/*
 * 1 when s[0..len) is one JSON text by RFC 8259 nested at most
 * JSON_CHECK_MAX_DEPTH deep, 0 otherwise.
 */
int
json_check(const char *text, size_t len)
{
	struct scan	 s = { (const unsigned char *)text,
			    (const unsigned char *)text + len };

	return value(&s, 0) && s.p == s.end;
}
