// Generates classic.json: what Alertmanager 0.25's classic matcher parser
// (pkg/labels.ParseMatchers and ParseMatcher) makes of each input in inputs.json,
// with each matcher's String() as route keys print it.
//
//	cd tests/routing/matchers && GO111MODULE=off GOPATH=/usr/share/gocode go run ./gen < inputs.json > classic.json
package main

import (
	"encoding/json"
	"os"

	"github.com/prometheus/alertmanager/pkg/labels"
)

type m struct {
	Type   string `json:"type"`
	Name   string `json:"name"`
	Value  string `json:"value"`
	String string `json:"string"`
}

type out struct {
	Input          string `json:"input"`
	Matchers       []m    `json:"matchers"`
	MatchersError  string `json:"matchers_error"`
	Matcher        *m     `json:"matcher"`
	MatcherError   string `json:"matcher_error"`
}

func conv(x *labels.Matcher) m {
	return m{Type: x.Type.String(), Name: x.Name, Value: x.Value, String: x.String()}
}

func main() {
	var inputs []string
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	var res []out
	for _, in := range inputs {
		o := out{Input: in, Matchers: []m{}}
		ms, err := labels.ParseMatchers(in)
		if err != nil {
			o.MatchersError = err.Error()
		} else {
			for _, x := range ms {
				o.Matchers = append(o.Matchers, conv(x))
			}
		}
		one, err := labels.ParseMatcher(in)
		if err != nil {
			o.MatcherError = err.Error()
		} else {
			c := conv(one)
			o.Matcher = &c
		}
		res = append(res, o)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(res); err != nil {
		panic(err)
	}
}
