// Command gen runs Go's regexp package (the Go that built Debian's
// Alertmanager 0.25) over the corpus below and writes what Go answers:
// compile errors, MatchString, FindStringSubmatch(Index) and
// ReplaceAllString results. tests/routing/test_goregex.py checks
// bot.routing.goregex against that file; nothing in it is written by hand.
//
//	GO111MODULE=off go run ./tests/routing/goregex/gen > tests/routing/goregex/go_regexp_cases.json
//
// Every pattern is compiled twice: as written (templates' reReplaceAll and
// match) and as Alertmanager compiles matcher values, "^(?:" + p + ")$".
// Strings that are not valid UTF-8 are written as {"hex": "..."}, since JSON
// strings cannot carry them.
package main

import (
	"bufio"
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"regexp"
	"runtime"
	"strings"
	"unicode/utf8"
)

type group struct {
	noReplace bool // only matches: the inputs are too long to be worth replacing
	onlyRepls bool // replace with repls only, not defaultRepls as well
	inputs    []string
	repls     []string
	patterns  []string
}

// Replacement templates tried with every valid pattern and input.
var defaultRepls = []string{"", "-", "<$0>", "[$1|${2}]", "$$1${name}$x"}

// Inputs shared by many groups.
var (
	words   = []string{"", "a", "foo", "foobar", "bar", "xfoo", "foo\n", "\nfoo", "FOO", "Foo", "fo", "foofoo", "a b", "ab\ncd", "x.y", "日本語", "é", "a\tb"}
	letters = []string{"", "a", "A", "k", "K", "\u212a", "s", "S", "\u017f", "ß", "ẞ", "σ", "Σ", "ς", "ǅ", "Ǆ", "ǆ", "é", "É", "Ω", "ω", "\u2126", "i", "İ", "ı", "1", "_", " ", "\n", "日", "ﬀ", "µ", "Μ", "μ"}
	digits  = []string{"", "0", "9", "٣", "৩", "１", "x1", "a_b", "héllo", "\v", "\u00a0", "\u2028", "\u3000", " \t\n\r\f", "word", "wörd"}
	nl      = []string{"", "a", "a\n", "\na", "a\nb", "b\na\n", "\n", "\n\n", "ab\n", "a\r\n", "a\nb\nc"}
	runs    = []string{"", "a", "aa", "aaa", "aaaa", "b", "ab", "aab", "ba", "baaac", "abab", "aaba", "xxy", "xyx", "c", "aac"}
	evil    = []string{strings.Repeat("a", 30), strings.Repeat("a", 30) + "b", strings.Repeat("a", 30) + "!", strings.Repeat("x", 30), strings.Repeat("x", 30) + "y", strings.Repeat("ab", 20) + "c"}
	invalid = []string{"\xff", "a\xffb", "\xe2\x82", "\xed\xa0\x80", "\xef\xbf\xbd", "a\xc0\xafb", "\xff\xfe"}
)

func nested(open, mid, close string, n int) string {
	return strings.Repeat(open, n) + mid + strings.Repeat(close, n)
}

var corpus = []group{
	// Errors, one group per Go error code, with the fragment Go reports.
	{patterns: []string{"(", "(a", "((a)", "(?:a", "(?i:a", "(?P<n>a", "(bar", "a(b|c", "(?P<name>"}},
	{patterns: []string{"[a", "[]", "[^]", "[a-", "[\\d", "[[:alpha:]", "a[b-c", "[a\\]", "[", "[^", "[]a", "[a-b-"}},
	{patterns: []string{")", "a)", "(a))", "x|)", "())", "foo)|(bar", "a|b)", ")("}},
	{patterns: []string{`\8`, `\9`, `\1`, `\18`, `\q`, `\C`, `\Z`, `\G`, `\K`, `\R`, `\h`, `\X`, `\e`, `\u0041`, `\U`, `\N{DIGIT ONE}`, `\o{12}`,
		`\x`, `\xA`, `\xZZ`, `\xZ`, `\x{}`, `\x{110000}`, `\x{zz}`, `\x{12`, `\x{`, `[\8]`, `[\b]`, `[a-\d]`, `\é`, `[\é]`, `\c`, `\y`, `a\1`}},
	{patterns: []string{"[z-a]", "[[:foo:]]", "[[:^foo:]]", `\p{Foo}`, `\pX`, `\p`, `\P`, `\p{`, `\p{L`, `\P{}`, `\p{^}`, `[\p{Foo}]`, `\p{IsGreek}`,
		`\p{greek}`, `\p{L&}`, `[a-\x{10}]`, `[\x{10}-\x05]`, `[[:word:]-a]`, `\pé`, `\p{Latin`}},
	{patterns: []string{"(?P<>a)", "(?P<a-b>x)", "(?P<a b>x)", "(?P<é>x)", "(?P<name", "(?P<", "(?P<n>", "(?P<n!>a)"}},
	{patterns: []string{"(?=x)", "(?!x)", "(?<=x)", "(?<!x)", "(?<name>x)", "(?'n'x)", "(?#c)", "(?>x)", "(?P=n)", "(?P>n)", "(?z)", "(?i", "(?", "(?-)",
		"(?i-)", "(?--i)", "(?x)", "(?a)", "(?u)", "(?P)", "(?|a)", "(?R)", "(?1)", "(*FAIL)", "(?i-m-s)", "(?^i)", "(?i)(?<n>a)"}},
	{patterns: []string{"a**", "a*+", "a++", "a?+", "a*?*", "a{2}{3}", "a{2}*", "a+{2}", "a???", "a{1,2}{3}", "x*?+", "(a)*{2}"}},
	{patterns: []string{"a{1001}", "a{2,1}", "a{1000,1001}", "a{99999999999}", "a{0,99999999999}", "(a{500}){3}", "((a{10}){10}){11}", "(?:a{2}){501}",
		"a{1001,}", "a{0,1001}", "(a{2}|b{3}){400}", "(?:(?:a{10}){10}){10}x{2}", "(a{1000}){1}", "(a{1000}){0}"}},
	{patterns: []string{"*", "+a", "?", "{2}", "(*)", "(?:*)", "a|*", "(|*)", "x|+", "(?i)*", "{1,2}", "|+"}},
	{patterns: []string{`\`, `a\`, `[a\`, `(a\`, `\Q\`}},
	{patterns: []string{"\xff", "a\xffb", "(?P<\xff>a)", "\\p{\xff}", "[\xff]", "\\Q\xff\\E", "(?\xff)", "\\x{\xff}", "x{\xff}", "\\p\xff", "(?P<a\xff", "\\p{a\xff", "[a-\xff]", "\\\xff"}},
	// Size and nesting limits of Go 1.19.8's parser.
	{patterns: []string{
		nested("(", "a", ")", 998), nested("(", "a", ")", 999), nested("(", "a", ")", 1000),
		nested("(?:a", "", ")*", 300), nested("(a|", "b", ")", 600), nested("(?:", "a", ")", 2000),
		// maxSize is 3355443 instructions: 3355 copies of a{1000} fit, 3356 do not.
		strings.Repeat("a{1000}", 3355), strings.Repeat("a{1000}", 3356),
		// Around the height limit, where Go's node counting and factoring decide.
		nested("(a|", "b", ")", 497), nested("(a|", "b", ")", 498), nested("(a|", "b", ")", 499), nested("(a|", "b", ")", 500),
		nested("(?:ab|a", "c", ")", 499), nested("(?:ab|a", "c", ")", 500), nested("(?:ab|a", "c", ")", 501),
		nested("(?:ab|ac|a", "d", ")", 500), nested("(?:ab|ac|a", "d", ")", 501), nested("(?i:a|b", "c", ")", 500), nested("(?i:a|b", "c", ")", 501),
		nested("(?:x|y|(?:xy", "z", ")*)", 332), nested("(?:x|y|(?:xy", "z", ")*)", 333), nested("(?:x|y|(?:xy", "z", ")*)", 334),
		nested("(?:", "a", "){1}", 998), nested("(?:", "a", "){1}", 999), nested("(?:", "a", "){1}", 1000),
		nested("(?:a", "", ")*", 498), nested("(?:a", "", ")*", 499), nested("(?:a", "", ")*", 500),
	}},

	// Alertmanager-style matcher values.
	{inputs: words, patterns: []string{"foo", "foo|bar", "fo+", "foo.*", ".*foo", "f.o", "", ".*", ".+", "(foo|bar)baz", "foo$", "^foo", "foo\\z", "x\\.y",
		"(?i)foo", "Foo|(?i:foo)", "[^f]oo", "foo\\n?", "(?s)foo.", "foo.", "日本.", "\\S+", "é", "(?-s:.)*"}},
	// Shapes goregex matches without RE2 when anchored: finite sets and literal globs.
	{inputs: []string{"", "a", "aa", "aba", "foo", "foobar", "foobarfoo", "afoobarb", "foo\nbar", "\nfoo", "foo\n", "bar", "barfoo", "x-canary", "-canary", "prod-", "prod-eu\n1", "FOO", "\ufffd", "a\xffb", "\xff"},
		patterns: []string{"foo.*", ".*foo", "foo.*bar", ".*foo.*", "(?s)foo.*", "(?s).*foo.*bar.*", "a.*a", ".*a.*a.*", "(.*)", "foo(.*)", "(?U).*foo", ".*\n.*", "(?s).*\n.*",
			"prod-.*", ".*-canary", "foo.*.*bar", "(?s:.*)foo.*", "(foo|bar).*", "(?i)foo.*", "a?.*", ".*(?:)", "(?:.*)*", "(.*)*", ".*\\x{FFFD}", "\\x{FFFD}|a", "(?i)ß|k",
			"foo|bar|", "[a-c]{0,3}", "(?:a|b){2}x?", "a{2}|b{3}", "\\x{D800}|a", "[\\x{0}-\\x{3FF}]", "[^\\x{0}-\\x{10FFFF}]|foo", ".+foo", "foo.+"}},
	// RE2 and Python disagree on these; Go is the reference.
	{inputs: nl, repls: []string{"#", "[$0]"}, patterns: []string{"a$", "^a$", "(?m)^a$", "(?m)a$", "(?m)^", "(?m)$", "$", "^", "\\z", "\\A", "a\\z", "(?m)^a\\z",
		"(?s).", ".", "[^a]", "(?s)a.b", "a.b", "(?m:$)\\n", "\\A$", "^$", "(?m)^$", "[\\n]", "\\n$", "(?m:^)(?-m:$)", "\\b", "\\B", "(?U)a*", "(?m)\\A"}},
	{inputs: letters, patterns: []string{"(?i)k", "(?i)K", "(?i)s", "(?i)ß", "(?i)σ", "(?i)ǅ", "(?i)[a-z]", "(?i)[^k]", "(?i)\\pL", "(?i)\\p{Lu}", "(?i)\\p{Ll}",
		"(?i)[[:upper:]]", "(?i)[[:^lower:]]", "(?i)\\w", "(?i)\\W", "(?i)[k-k]", "(?i)[kK]", "[kK]", "[Kk\u212a]", "(?i)é", "(?i)Ω", "(?i)ω", "(?i)i", "(?i)ı",
		"(?i)µ", "(?i)[µ]", "(?i)\\p{Greek}", "(?i)\\P{Greek}", "(?i)[^\\p{Greek}]", "(?i)\\p{Latin}", "(?i)[\\x{100}-\\x{1e943}]", "(?i)[a-\\x{10FFFF}]",
		"a(?i)b", "(?i)a(?-i)b", "(?i:a)b", "(?i)(?-i:a)", "\\p{Lt}", "\\p{Lu}", "\\pL", "\\PL", "\\p{^L}", "\\P{^L}", "\\p{L}", "[\\p{Lu}\\p{Nd}]",
		"[^\\pL]", "\\p{Any}", "\\P{Any}", "[\\P{Any}]", "[^\\P{Any}]", "\\p{Han}", "\\p{Common}", "\\p{Inherited}", "\\p{Zl}", "\\p{Cs}", "\\p{Co}",
		"\\p{Braille}", "[\\d\\p{Greek}]", "\\p{Cyrillic}", "(?i)\\p{Cyrillic}", "(?i)[[:word:]]", "(?i)[^[:word:]]", "(?i)[\\d]", "(?i)\\S", "(?i)[^\\s]"}},
	{inputs: digits, patterns: []string{"\\d", "\\D", "\\w+", "\\W", "\\s", "\\S", "\\b\\w+\\b", "\\B", "[[:alpha:]]+", "[[:^alpha:]]", "[[:word:]]+", "[[:digit:]]",
		"[[:space:]]", "[[:blank:]]", "[[:cntrl:]]", "[[:graph:]]+", "[[:print:]]+", "[[:punct:]]", "[[:xdigit:]]+", "[[:ascii:]]+", "[[:^ascii:]]", "[[:lower:]]+",
		"[[:upper:]]", "[[:alnum:]]+", "\\pN", "\\p{Nd}", "\\pZ", "\\p{Zs}", "[\\d-z]", "[\\w-]", "[^\\d]", "[\\D]", "[^\\D]", "[\\s\\S]", "[^\\w\\s]", "\\v", "[\\v]",
		"\\x{a0}", "[\\x{2028}\\x{3000}]", "\\x{FF11}", "\\p{Arabic}"}},
	{inputs: []string{"", "a", "A", "\x00", "\a\f\t\n\r\v", "a.b", "{", "a{", "a{1", "a{,2}", "a{1,2", "x{a}", "]", "-", "^", "\\", "\\E", "*+?", "$a", "é", "\u0101", "\U0001F600", "AB", "\x08"},
		patterns: []string{"\\0", "\\07", "\\101", "\\1011", "\\17", "\\0101", "\\x41", "\\x{1F600}", "\\x{0}", "\\x{101}", "\\a\\f\\t\\n\\r\\v", "\\Qa.b\\E", "\\Qa.b", "\\Q*+?\\E+",
			"\\Qab\\Ec*", "\\Q\\E", "\\Q\\\\E", "\\Q$a\\E", "a{,2}", "a{1,2", "x{a}", "{", "a{", "{}", "a{}", "[]a]", "[^]a]", "[a-]", "[-a]", "[a\\-z]", "[\\-]",
			"\\_", "\\-", "\\ ", "\\<", "\\{", "\\]", "[\\]]", "[\\[]", "[]-a]", "[\\x41-\\x{43}]", "[\\0-\\x{10}]", "\\.", "[.]", "[\\^]", "[^^]", "\\$", "\\\\",
			"[[:alpha:]-z]", "[a-[:digit:]]", "[[:]]", "[[:alpha]]", "[[=a=]]", "[[.a.]]", "\\x{10FFFF}", "[\\x{D800}-\\x{DFFF}]", "\\x{D800}", "[^\\x{0}-\\x{10FFFF}]",
			"\\x{FFFD}", "[\\x{FFFD}]"}},
	// Repetition, greediness, leftmost-first and captures.
	{inputs: runs, repls: []string{"<$1>", "x", "${1}${2}", "$2$1", "$10", "$1$", "${1", "$$"}, patterns: []string{"a*", "a+", "a?", "a*?", "a+?", "a??", "(?U)a*", "(?U)a*?",
		"(?U)(a+)(a*)", "(a+)(a*)", "(a*?)(a*)", "a{2}", "a{2,}", "a{2,3}", "a{2,}?", "a{0}", "(a){0}", "(a){0}b", "(b)(a){0}", "a{0,0}", "a{1}", "a{0,1}",
		"(a|ab)(c|bcd)(d*)", "a|ab", "ab|a", "(a|aa)*", "(a|aa)*c", "(a*)*", "(a*)+", "(a*|b)*", "(|a)*", "(|a)+", "(a|)*", "(a|)+", "(a*)*b", "(?:a*)*", "(a+|b*)*",
		"(a?)*", "(a?)+?", "((a)|b)+", "(a)|(b)", "(a)?b", "(a)?(b)?", "((a)(b)?)+", "(?:(a)|b)*", "(a){2}", "(a){2,3}", "(a|b){2,}", "(a*){2}", "(a*){2,3}",
		"(a){1,2}?", "(|)", "()", "(?:)", "|", "a|", "|a", "(?:|a)*", "(a|b|)+", "x*", "(x)*y", "b|a*", "a*|b", "(aa|a)+", "(a+)+b", "(a|aa)*c", "(x+x+)+y",
		"(.*a){3}", "^(\\w+\\s?)*$", "(a*)*$", "[ab]*?b", "(a)(b)(c)?(d)?(e)?(f)?(g)?(h)?(i)?(j)?(k)?"}},
	{inputs: evil, patterns: []string{"(a+)+b", "(a|aa)*c", "(x+x+)+y", "(a*)*b", "(.*a){12}", "^(\\w+\\s?)*$", "(a|a)*b", "(a|ab)*c", "^(a+)+$", "(.*)*b", "(?:a?){30}a{30}"}},
	// Word boundaries and anchors when ReplaceAllString searches from inside the text.
	{inputs: []string{"", "hello world", "a  b", "x.y z", "über", "aé b", "foo_bar baz", "  ", "a\nb"}, repls: []string{"|", "<$0>"}, patterns: []string{"\\b", "\\B", "\\bx", "\\b\\w",
		"\\w\\b", "\\B\\w", "^\\w", "\\w$", "(?m)^\\w", "(?m)\\w$", "\\A\\w", "\\w\\z", "^", "$", "", "\\s*", "\\w*", "(?U)\\w+", "[^ ]*", "\\b(\\w)(\\w*)\\b"}},
	// Named groups and Expand.
	{inputs: []string{"", "john smith", "ana", "x-y", "1 2", "日本 語"}, repls: []string{"$first", "${first}", "$last,$first", "${last}_${first}", "$first_", "${first}_", "$1$2", "${1}0",
		"$01", "${01}", "$00", "$0", "${0}", "$", "$$", "$$$", "$ x", "${", "${}", "${1", "${first", "$é", "${é}", "$_", "${_}", "$x_1", "$2_", "$1x", "$-", "$100000000",
		"$99999999999", "${10}", "$名", "a$$first", "$first$last", "${na-me}", "${first}}"},
		patterns: []string{"(?P<first>\\w+) (?P<last>\\w+)", "(?P<first>\\S+)(?: (?P<last>\\S+))?", "(?P<x>a)|(?P<x>b)", "(?P<x>.)(?P<x>.)", "(?P<_>.)", "(?P<first>a)?(?P<1>.)",
			"(?P<é>x)", "(?P<name>\\w)", "(?P<x_1>.)(.)"}},
	// Unicode text and empty-match replacement stepping over multi-byte runes.
	{inputs: []string{"", "日本語", "aé日\U0001F600b", "\U0001F600\U0001F600", "é", "e\u0301"}, repls: []string{"-", "[$0]"}, patterns: []string{"", "x*", ".", "..", "日*", "[^a]", "\\PL",
		"(?s).", "\\x{1F600}", "[\\x{1F600}-\\x{1F64F}]+", "é|e", "\\p{M}", "\\p{Mn}", "(?i)É", "\\b", "a|"}},
	// Inputs that are not valid UTF-8: Go reads each bad byte as U+FFFD.
	{inputs: invalid, repls: []string{"-", "[$0]"}, patterns: []string{".", "a.b", "\\x{FFFD}", "[^a]", "", "\\xff", "\\PL", "[\\x{80}-\\x{10FFFF}]", "(?s).+", "a|b", "\\W"}},
	// Long and large patterns that Go accepts.
	{noReplace: true, inputs: []string{"", "a", strings.Repeat("a", 1000), strings.Repeat("é", 1000) + "x"}, patterns: []string{"a{1000}", "(?:a{10}){100}", "\\pL{1000}", "(?:\\pL{100}){10}x",
		"[\\x{0}-\\x{10FFFF}]{1000}", ".{1000}", "(?i)\\pL{500}", "(a){1000}", nested("(", "a", ")", 900), nested("(?:a|", "b", ")", 400),
		strings.Repeat("(a)", 1000), strings.Repeat("a|", 500) + "b",
		// Too big for the memory goregex lets RE2 use (a known difference).
		strings.Repeat("\\pL{1000}", 4)}},
}

// Random patterns and inputs over a small alphabet, to compare semantics
// (submatch choice, empty-width assertions, flags, greediness) beyond the
// cases above. The seed is fixed, so the corpus is the same on every run.
var (
	rng        = rand.New(rand.NewSource(19))
	randAtoms  = []string{"a", "b", "ab", "ba", ".", "[ab]", "[^a]", "\\b", "\\B", "^", "$", "(?i)A", "é", "\\w", "\\d", "\\s", "[[:alpha:]]", "\\pL", "\\PL", "(?m)^", "(?m)$", "\\z", "\\A", "x", "", "(?i)é", "\\n", "(?s).", "[a-c]", "(?i)[^b]", "\\x{e9}"}
	randRepeat = []string{"*", "+", "?", "{0,2}", "{2}", "{1,}", "{0}", "*?", "+?", "??", "{1,3}?"}
	randFlags  = []string{"(?:", "(", "(?P<n>", "(?i:", "(?s:", "(?U:", "(?m:", "(?-i:", "(?P<m>"}
	randChars  = []string{"a", "b", "A", "B", "x", "é", "É", " ", "\n", "1", "_", "ab", "aa"}
)

func randPattern(depth int) string {
	if depth <= 0 || rng.Intn(3) == 0 {
		return randAtoms[rng.Intn(len(randAtoms))]
	}
	var p string
	switch rng.Intn(4) {
	case 0: // concatenation
		for i := rng.Intn(3) + 1; i > 0; i-- {
			p += randPattern(depth - 1)
		}
	case 1: // alternation
		p = randPattern(depth-1) + "|" + randPattern(depth-1)
		if rng.Intn(2) == 0 {
			p += "|" + randPattern(depth-1)
		}
	case 2: // group
		p = randFlags[rng.Intn(len(randFlags))] + randPattern(depth-1) + ")"
	case 3: // repetition of a group or an atom
		if rng.Intn(2) == 0 {
			p = "(" + randPattern(depth-1) + ")"
		} else {
			p = randAtoms[rng.Intn(len(randAtoms))]
		}
		p += randRepeat[rng.Intn(len(randRepeat))]
	}
	return p
}

func randInputs(n int) []string {
	out := []string{""}
	for len(out) < n {
		var s string
		for i := rng.Intn(7); i > 0; i-- {
			s += randChars[rng.Intn(len(randChars))]
		}
		out = append(out, s)
	}
	return out
}

func randomGroups(n int) []group {
	var gs []group
	for i := 0; i < n; i++ {
		gs = append(gs, group{inputs: randInputs(6), repls: []string{"[$1|$n]"}, patterns: []string{randPattern(4)}, onlyRepls: true})
	}
	return gs
}

// text is a JSON string, or {"hex": ...} for bytes that are not valid UTF-8.
type text string

func (t text) MarshalJSON() ([]byte, error) {
	if utf8.ValidString(string(t)) {
		return marshal(string(t))
	}
	return marshal(map[string]string{"hex": hex.EncodeToString([]byte(t))})
}

// marshal is json.Marshal without HTML escaping, so that <$0> stays readable.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimRight(b.Bytes(), "\n"), nil
}

func texts(ss []string) []text {
	if ss == nil {
		return nil
	}
	out := make([]text, len(ss))
	for i, s := range ss {
		out[i] = text(s)
	}
	return out
}

// A match is [input, MatchString, FindStringSubmatch, FindStringSubmatchIndex]
// and a replacement [src, repl, ReplaceAllString(src, repl)]: arrays, not
// objects, because there are tens of thousands of them.
type result struct {
	Expr         text     `json:"expr"`
	Error        *text    `json:"error,omitempty"`
	NumSubexp    int      `json:"num_subexp"`
	SubexpNames  []text   `json:"subexp_names,omitempty"`
	Matches      [][]any  `json:"matches,omitempty"`
	Replacements [][]text `json:"replacements,omitempty"`
}

func run(expr string, inputs, repls []string, withReplace bool) result {
	r := result{Expr: text(expr)}
	re, err := regexp.Compile(expr)
	if err != nil {
		msg := text(err.Error())
		r.Error = &msg
		return r
	}
	r.NumSubexp = re.NumSubexp()
	r.SubexpNames = texts(re.SubexpNames())
	for _, in := range inputs {
		r.Matches = append(r.Matches, []any{text(in), re.MatchString(in), texts(re.FindStringSubmatch(in)), re.FindStringSubmatchIndex(in)})
		if !withReplace {
			continue
		}
		for _, repl := range repls {
			r.Replacements = append(r.Replacements, []text{text(in), text(repl), text(re.ReplaceAllString(in, repl))})
		}
	}
	return r
}

func main() {
	var results []result
	for _, g := range append(corpus, randomGroups(600)...) {
		repls := append(append([]string{}, defaultRepls...), g.repls...)
		if g.onlyRepls {
			repls = g.repls
		}
		for _, p := range g.patterns {
			results = append(results, run(p, g.inputs, repls, !g.noReplace))
			results = append(results, run("^(?:"+p+")$", g.inputs, nil, false))
		}
	}
	// One case per line keeps diffs of the data readable.
	out := bufio.NewWriter(os.Stdout)
	defer out.Flush()
	version, _ := marshal(runtime.Version())
	fmt.Fprintf(out, "{\"go_version\": %s, \"cases\": [\n", version)
	for i, r := range results {
		line, err := marshal(r)
		if err != nil {
			panic(err)
		}
		sep := ","
		if i == len(results)-1 {
			sep = ""
		}
		fmt.Fprintf(out, "%s%s\n", line, sep)
	}
	fmt.Fprintln(out, "]}")
}
