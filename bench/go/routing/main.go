// Times Alertmanager 0.25's own routing (dispatch.Route.Match) over the same configs
// and label sets as bench/routing_bench.py, so both are measured in one run.
//
//	GO111MODULE=off GOPATH=/usr/share/gocode go run ./bench/go/routing < input.json
package main

import (
	"encoding/json"
	"fmt"
	"os"
	"time"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"
)

type input struct {
	Name      string              `json:"name"`
	Config    string              `json:"config"`
	LabelSets []map[string]string `json:"label_sets"`
	Seconds   float64             `json:"seconds"`
}

func main() {
	var inputs []input
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	results := map[string]map[string]float64{}
	for _, in := range inputs {
		cfg, err := config.Load(in.Config)
		if err != nil {
			panic(err)
		}
		tree := dispatch.NewRoute(cfg.Route, nil)
		sets := make([]model.LabelSet, len(in.LabelSets))
		for i, ls := range in.LabelSets {
			sets[i] = model.LabelSet{}
			for k, v := range ls {
				sets[i][model.LabelName(k)] = model.LabelValue(v)
			}
		}
		matched := 0
		n := 0
		start := time.Now()
		deadline := start.Add(time.Duration(in.Seconds * float64(time.Second)))
		for time.Now().Before(deadline) {
			for _, ls := range sets {
				matched += len(tree.Match(ls))
			}
			n += len(sets)
		}
		elapsed := time.Since(start).Seconds()
		results[in.Name] = map[string]float64{"per_second": float64(n) / elapsed, "routes_per_set": float64(matched) / float64(n)}
	}
	out, _ := json.Marshal(results)
	fmt.Println(string(out))
}
