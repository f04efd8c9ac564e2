// Generates tests/engine/alertmanager_cases.json from Alertmanager 0.25's own code:
//   - "merge": types.Alert.Merge on generated pairs (times as minute offsets from now);
//   - "sort": types.AlertSlice sorted with sort.Stable (notification order);
//   - "fingerprint": model.LabelSet.Fingerprint.
//
//	cd tests/engine && GO111MODULE=off GOPATH=/usr/share/gocode go run ./gen > alertmanager_cases.json
package main

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"os"
	"sort"
	"time"

	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/common/model"
)

type side struct {
	Start   int  `json:"start"` // minutes from now
	End     *int `json:"end"`   // minutes from now; null = zero time
	Updated int  `json:"updated"`
	Timeout bool `json:"timeout"`
}

type mergeCase struct {
	A   side `json:"a"`
	B   side `json:"b"`
	Res side `json:"result"`
}

func mk(now time.Time, s side) *types.Alert {
	a := &types.Alert{Alert: model.Alert{Labels: model.LabelSet{"a": "b"}, StartsAt: now.Add(time.Duration(s.Start) * time.Minute)},
		UpdatedAt: now.Add(time.Duration(s.Updated) * time.Minute), Timeout: s.Timeout}
	if s.End != nil {
		a.EndsAt = now.Add(time.Duration(*s.End) * time.Minute)
	}
	return a
}

func back(now time.Time, a *types.Alert) side {
	s := side{Start: int(a.StartsAt.Sub(now).Round(time.Minute) / time.Minute),
		Updated: int(a.UpdatedAt.Sub(now).Round(time.Minute) / time.Minute), Timeout: a.Timeout}
	if !a.EndsAt.IsZero() {
		e := int(a.EndsAt.Sub(now).Round(time.Minute) / time.Minute)
		s.End = &e
	}
	return s
}

func main() {
	rng := rand.New(rand.NewSource(42))
	now := time.Now()
	var merges []mergeCase
	for i := 0; i < 400; i++ {
		gen := func() side {
			s := side{Start: rng.Intn(11) - 5, Updated: rng.Intn(7) - 3, Timeout: rng.Intn(2) == 0}
			if rng.Intn(5) != 0 {
				e := s.Start + rng.Intn(9) - 2
				s.End = &e
			}
			return s
		}
		a, b := gen(), gen()
		if a.Updated == b.Updated {
			b.Updated++
		}
		res := mk(now, a).Merge(mk(now, b))
		merges = append(merges, mergeCase{A: a, B: b, Res: back(now, res)})
	}

	names := []string{"job", "instance", "alertname", "a", "b", "zone"}
	values := []string{"", "x", "y", "z"}
	var sorts [][]map[string]string
	for i := 0; i < 200; i++ {
		n := 2 + rng.Intn(8)
		var slice types.AlertSlice
		var input []map[string]string
		for j := 0; j < n; j++ {
			ls := model.LabelSet{}
			m := map[string]string{}
			for _, name := range names {
				if rng.Intn(3) == 0 {
					v := values[1+rng.Intn(len(values)-1)]
					ls[model.LabelName(name)] = model.LabelValue(v)
					m[name] = v
				}
			}
			slice = append(slice, &types.Alert{Alert: model.Alert{Labels: ls}})
			input = append(input, m)
		}
		order := make([]int, n)
		for j := range order {
			order[j] = j
		}
		// sort indices with the same Less, stably
		sort.SliceStable(order, func(x, y int) bool {
			s := types.AlertSlice{slice[order[x]], slice[order[y]]}
			return s.Less(0, 1)
		})
		var sorted []map[string]string
		for _, j := range order {
			sorted = append(sorted, input[j])
		}
		sorts = append(sorts, [][]map[string]string{input, sorted}...)
	}

	var fps [][2]interface{}
	for i := 0; i < 100; i++ {
		m := map[string]string{}
		ls := model.LabelSet{}
		for j := 0; j < rng.Intn(6); j++ {
			k := fmt.Sprintf("l%d%s", rng.Intn(5), []string{"", "é", "🙂", " x"}[rng.Intn(4)])
			v := fmt.Sprintf("v%d%s", rng.Intn(100), []string{"", "\n", "ünï", "\"q\""}[rng.Intn(4)])
			m[k] = v
			ls[model.LabelName(k)] = model.LabelValue(v)
		}
		fps = append(fps, [2]interface{}{m, ls.Fingerprint().String()})
	}

	enc := json.NewEncoder(os.Stdout)
	enc.SetIndent("", " ")
	if err := enc.Encode(map[string]interface{}{"merge": merges, "sort": sorts, "fingerprint": fps}); err != nil {
		panic(err)
	}
}
