// Generates expected.json: Alertmanager 0.25's timeinterval.ContainsTime for each interval
// spec in specs.json at generated instants (and the parse error for invalid specs).
//
//	cd tests/config/timeintervals && GO111MODULE=off GOPATH=/usr/share/gocode go run ./gen < specs.json > expected.json
package main

import (
	"encoding/json"
	"math/rand"
	"os"
	"time"

	"github.com/prometheus/alertmanager/timeinterval"
	"gopkg.in/yaml.v2"
)

type result struct {
	Spec    string          `json:"spec"`
	Error   string          `json:"error"`
	Samples [][2]interface{} `json:"samples"`
}

func main() {
	var specs []string
	if err := json.NewDecoder(os.Stdin).Decode(&specs); err != nil {
		panic(err)
	}
	rng := rand.New(rand.NewSource(1))
	base := time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	var out []result
	for _, s := range specs {
		r := result{Spec: s, Samples: [][2]interface{}{}}
		var ti timeinterval.TimeInterval
		if err := yaml.UnmarshalStrict([]byte(s), &ti); err != nil {
			r.Error = err.Error()
			out = append(out, r)
			continue
		}
		for i := 0; i < 300; i++ {
			t := time.Unix(base+rng.Int63n(8*365*86400), 0).UTC()
			r.Samples = append(r.Samples, [2]interface{}{t.Format(time.RFC3339), ti.ContainsTime(t)})
		}
		out = append(out, r)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	enc.Encode(out)
}
