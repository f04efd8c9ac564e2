// Command labelparse records what Alertmanager 0.25's amtool does with each
// `routes test` label argument: amtool's parseLabels (cli/utils.go) hands every
// argument to pkg/labels.ParseMatcher and rejects any operator but "=".
//
// It reads a JSON array of argument strings on stdin and writes a JSON array of
// results, one per argument: {"name", "value", "op"} or {"error"}.
// Built in GOPATH mode against Debian's golang-github-prometheus-alertmanager-dev
// (the same source the Debian amtool binary is built from):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run ./labelparse < args.json
package main

import (
	"encoding/json"
	"os"

	"github.com/prometheus/alertmanager/pkg/labels"
)

type result struct {
	Name  *string `json:"name,omitempty"`
	Value *string `json:"value,omitempty"`
	Op    *string `json:"op,omitempty"`
	Error *string `json:"error,omitempty"`
}

func main() {
	var args []string
	if err := json.NewDecoder(os.Stdin).Decode(&args); err != nil {
		panic(err)
	}
	out := make([]result, 0, len(args))
	for _, a := range args {
		m, err := labels.ParseMatcher(a)
		if err != nil {
			msg := err.Error()
			out = append(out, result{Error: &msg})
			continue
		}
		op := m.Type.String()
		name, value := m.Name, m.Value
		out = append(out, result{Name: &name, Value: &value, Op: &op})
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		panic(err)
	}
}
