package reports

import (
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/advbench/advbench/internal/stats"
	"github.com/advbench/advbench/results"
)

// ModelInfo is one model's record in RobustBench's leaderboard
// (model_info/<dataset>/<threat>/<name>.json of RobustBench/robustbench):
// accuracies in percent as strings with two decimals, as its records write
// them. The threat model is the directory the record lies in
// (RobustBenchDir), not a field.
type ModelInfo struct {
	Link                string `json:"link"`
	Name                string `json:"name"`
	Authors             string `json:"authors"`
	AdditionalData      bool   `json:"additional_data"`
	NumberForwardPasses int    `json:"number_forward_passes"`
	Dataset             string `json:"dataset"`
	Venue               string `json:"venue"`
	Architecture        string `json:"architecture"`
	Eps                 string `json:"eps"`
	CleanAcc            string `json:"clean_acc"`
	// Reported is the paper's own robust accuracy (its PGD-20 RA, Table 4),
	// where the paper has the norm.
	Reported      string `json:"reported,omitempty"`
	Footnote      string `json:"footnote"`
	AutoAttackAcc string `json:"autoattack_acc"`
	// Unreliable says a check or diagnostic of an AutoAttack attack failed
	// in the evaluation (see docs/evaluation.md).
	Unreliable bool `json:"unreliable"`
}

// RobustBenchRecord is a model's record and the file name it goes by.
type RobustBenchRecord struct {
	File string // e.g. saauxbn-s1-adv.json
	Info ModelInfo
}

// RobustBenchDir is where RobustBench keeps records of CIFAR-10 models
// under the L-inf threat model, relative to its model_info directory.
const RobustBenchDir = "cifar10/Linf"

// The paper every advbench model reproduces.
const (
	paperLink    = "https://arxiv.org/abs/2102.11382"
	paperName    = "Sandwich Batch Normalization: A Drop-In Replacement for Feature Distribution Heterogeneity"
	paperAuthors = "Xinyu Gong, Wuyang Chen, Tianlong Chen, Zhangyang Wang"
	paperVenue   = "WACV 2022"
)

// RobustBench makes a RobustBench record of each result file, in the order
// given. Every file must hold AutoAttack's standard suite
// (results.File.AutoAttack) at an L-inf radius; one that does not is
// refused, naming it.
func RobustBench(srcs []results.Source) ([]RobustBenchRecord, error) {
	if len(srcs) == 0 {
		return nil, fmt.Errorf("reports: no result files")
	}
	var out []RobustBenchRecord
	seen := map[string]string{}
	for _, s := range srcs {
		f := s.File
		flags, last := f.AutoAttack()
		if flags == nil {
			return nil, &NoAutoAttackError{Path: s.Path}
		}
		name := fmt.Sprintf("%s-s%d-%s.json", f.Model.Norm, f.Model.TrainSeed, f.Branch)
		if prev, dup := seen[name]; dup {
			return nil, fmt.Errorf("reports: %s and %s are both %s, train seed %d, branch %s: give one of them", prev, s.Path, f.Model.Norm, f.Model.TrainSeed, f.Branch)
		}
		seen[name] = s.Path
		arch := "PreActResNet-18"
		if f.Model.Width != 1 {
			arch += fmt.Sprintf(" (width x%g)", f.Model.Width)
		}
		info := ModelInfo{
			Link: paperLink, Name: paperName, Authors: paperAuthors, Venue: paperVenue,
			NumberForwardPasses: 1, Dataset: "cifar10", Architecture: arch,
			Eps:           f.Attack(last).Eps255,
			CleanAcc:      pct(f.SA),
			AutoAttackAcc: pct(stats.Fraction(flags)),
			Footnote: fmt.Sprintf("advbench %s reproduction: %s, %s branch, preset %s, train seed %d, %s objective; evaluated on %d test images of %s.",
				f.Version, DisplayName(f.Model.Norm), f.Branch, f.Model.Preset, f.Model.TrainSeed, f.Model.Objective, f.Examples, f.Data.Source),
		}
		if f.Branch != results.BranchClean {
			if v, ok := Published.Table4[rowLabel("pgd-20")][f.Model.Norm]; ok {
				info.Reported = strconv.FormatFloat(v, 'f', 2, 64)
			}
		}
		aa := results.AutoAttackNames()
		for _, c := range append(slices.Clone(f.Checks), f.Diagnostics...) {
			if !c.OK && (contains(aa, c.Attack) || c.Attack == last) {
				info.Unreliable = true
			}
		}
		out = append(out, RobustBenchRecord{File: name, Info: info})
	}
	return out, nil
}

// NoAutoAttackError is a result file without AutoAttack's standard suite.
type NoAutoAttackError struct{ Path string }

func (e *NoAutoAttackError) Error() string {
	return fmt.Sprintf("reports: %s has no AutoAttack result (its pruned attacks do not include all of %s)", e.Path, strings.Join(results.AutoAttackNames(), ", "))
}
