// Generates tests/routing/keys/expected.json: what Alertmanager 0.25's own dispatch code
// returns for each (config, label set) in cases.json — receivers, route keys, route options,
// group labels and group keys, and label-set fingerprints.
//
//	cd tests/routing/keys && GO111MODULE=off GOPATH=/usr/share/gocode go run ./gen < cases.json > expected.json
package main

import (
	"encoding/json"
	"os"
	"sort"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/common/model"
)

type input struct {
	Name      string              `json:"name"`
	Config    string              `json:"config"`
	LabelSets []map[string]string `json:"label_sets"`
}

type match struct {
	Receiver       string            `json:"receiver"`
	RouteKey       string            `json:"route_key"`
	GroupBy        []string          `json:"group_by"`
	GroupByAll     bool              `json:"group_by_all"`
	GroupWait      float64           `json:"group_wait"`
	GroupInterval  float64           `json:"group_interval"`
	RepeatInterval float64           `json:"repeat_interval"`
	GroupLabels    map[string]string `json:"group_labels"`
	GroupKey       string            `json:"group_key"`
}

type result struct {
	Labels      map[string]string `json:"labels"`
	Fingerprint string            `json:"fingerprint"`
	Matches     []match           `json:"matches"`
}

type output struct {
	Name    string   `json:"name"`
	Results []result `json:"results"`
}

func main() {
	var inputs []input
	if err := json.NewDecoder(os.Stdin).Decode(&inputs); err != nil {
		panic(err)
	}
	var outputs []output
	for _, in := range inputs {
		cfg, err := config.Load(in.Config)
		if err != nil {
			panic(in.Name + ": " + err.Error())
		}
		tree := dispatch.NewRoute(cfg.Route, nil)
		out := output{Name: in.Name}
		for _, ls := range in.LabelSets {
			lset := model.LabelSet{}
			for k, v := range ls {
				lset[model.LabelName(k)] = model.LabelValue(v)
			}
			res := result{Labels: ls, Fingerprint: lset.Fingerprint().String(), Matches: []match{}}
			for _, r := range tree.Match(lset) {
				groupBy := []string{}
				for ln := range r.RouteOpts.GroupBy {
					groupBy = append(groupBy, string(ln))
				}
				sort.Strings(groupBy)
				// The same projection as dispatch.getGroupLabels (unexported).
				groupLabels := model.LabelSet{}
				for ln, lv := range lset {
					if _, ok := r.RouteOpts.GroupBy[ln]; ok || r.RouteOpts.GroupByAll {
						groupLabels[ln] = lv
					}
				}
				gl := map[string]string{}
				for k, v := range groupLabels {
					gl[string(k)] = string(v)
				}
				res.Matches = append(res.Matches, match{
					Receiver:       r.RouteOpts.Receiver,
					RouteKey:       r.Key(),
					GroupBy:        groupBy,
					GroupByAll:     r.RouteOpts.GroupByAll,
					GroupWait:      r.RouteOpts.GroupWait.Seconds(),
					GroupInterval:  r.RouteOpts.GroupInterval.Seconds(),
					RepeatInterval: r.RouteOpts.RepeatInterval.Seconds(),
					GroupLabels:    gl,
					GroupKey:       r.Key() + ":" + groupLabels.String(),
				})
			}
			out.Results = append(out.Results, res)
		}
		outputs = append(outputs, out)
	}
	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(outputs); err != nil {
		panic(err)
	}
}
