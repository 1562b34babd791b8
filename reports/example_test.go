package reports_test

import (
	"fmt"
	"os"

	"github.com/advbench/advbench/reports"
	"github.com/advbench/advbench/results"
)

// result makes the result file of one evaluated branch from per-example
// outcomes written as strings ('1': correct, or robust): what 'advbench
// eval' writes, reduced to the fields a report reads.
func result(norm, branch string, branches int, clean, robust string) *results.File {
	flags := func(s string) []bool {
		out := make([]bool, len(s))
		for i, c := range s {
			out[i] = c == '1'
		}
		return out
	}
	frac := func(fl []bool) (float64, int) {
		n := 0
		for _, f := range fl {
			if f {
				n++
			}
		}
		return float64(n) / float64(len(fl)), n
	}
	cc, rb := flags(clean), flags(robust)
	sa, _ := frac(cc)
	ra, nr := frac(rb)
	pgd := results.AttackParams{Name: "pgd-10", Eps: 8.0 / 255, Eps255: "8/255", Step: 2.0 / 255, Steps: 10, Restarts: 1, RandomStart: true, Loss: "ce"}
	return &results.File{
		Provenance: results.Provenance{Schema: results.Schema, Version: "example",
			Model:      results.Model{Norm: norm, Width: 1, Branches: branches, Objective: "advprop", Preset: "paper", TrainSeed: 1},
			Checkpoint: results.Checkpoint{Path: "runs/" + norm + "/checkpoints/last.safetensors", Epoch: 200},
			Data:       results.Data{Source: "cifar-10 test", SHA256: "0123456789abcdef", Split: "test"}},
		Branch: branch, Mode: "eval",
		Measurement: results.Measurement{
			Examples: len(cc), SA: sa, WorstCaseRA: ra,
			Attacks:    []results.AttackResult{{AttackParams: pgd, RA: ra, Robust: nr}},
			PerExample: &results.PerExample{CleanCorrect: cc, Robust: map[string][]bool{"pgd-10": rb}, WorstCase: rb},
		},
	}
}

// Build the paper's Tables 3 and 4 from three result files (BN's one
// network, and SaAuxBN's clean and adversarial branches) on the same 20
// test images, and render them as Markdown. The report is data: under
// PGD-10 the two models disagree on two images, both robust only for
// SaAuxBN, so McNemar's exact test gives p = 2·(1/2)² = 0.5.
func Example() {
	srcs := []results.Source{
		{Path: "bn.json", File: result("bn", results.BranchShared, 1,
			"11111111111111110000", "11111111000000000000")},
		{Path: "saauxbn-clean.json", File: result("saauxbn", results.BranchClean, 2,
			"11111111111111111110", "11000000000000000000")},
		{Path: "saauxbn-adv.json", File: result("saauxbn", results.BranchAdv, 2,
			"11111111111111111000", "11111111110000000000")},
	}
	rep, err := reports.Build(srcs, reports.Options{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := reports.Render(os.Stdout, rep, "markdown"); err != nil {
		fmt.Println(err)
		return
	}
	ra := rep.Table4.Rows[1]
	fmt.Printf("\n%s, %s: McNemar p = %.3f against %s\n", ra.Label, rep.Table4.Columns[0].Label, *ra.Cells[0].PValue, reports.DisplayName(reports.Reference))
	// Output:
	// **Table 3: standard accuracy (%) of the clean branch**
	//
	// |   | BN | SaAuxBN (clean) |
	// |---|---|---|
	// | Clean (SA) | 80.00 [58.40, 91.93] | 95.00 [76.39, 99.11] |
	//
	// **Table 4: standard and robust accuracy (%) of the adversarial branch**
	//
	// |   | BN | SaAuxBN (adv) |
	// |---|---|---|
	// | Clean (SA) | 80.00 [58.40, 91.93] | 85.00 [63.96, 94.76] |
	// | PGD-10 (RA) | 40.00 [21.88, 61.34] reliable | 50.00 [29.93, 70.07] reliable |
	// | AutoAttack (RA) | — | — |
	// | worst case over all attacks | 40.00 [21.88, 61.34] reliable | 50.00 [29.93, 70.07] reliable |
	//
	// _Preset paper; test data cifar-10 test (20 images, sha256 0123456789ab); train seeds 1; attack seeds 0._
	// _Attack pgd-10: eps 8/255, step 2/255, 10 steps, 1 restart(s), random start, ce loss; evaluation mode, white-box on the evaluated branch._
	// _Row AutoAttack (RA): robust under every attack of AutoAttack's standard suite (apgd-ce, apgd-t, fab-t, square), each run only on the points still robust; — where a result has no such suite. Row worst case over all attacks: per example, robust under every attack above._
	// _Robust-accuracy cells are marked reliable, or warning when a check or diagnostic of their attacks failed (docs/evaluation.md)._
	// _Cells: accuracy in % (mean ± std over seeds when several) [95% interval: Wilson for one run, Student's t over seeds]._
	// _\* Holm-adjusted p < 0.05 over the 4 tests, in McNemar's exact test against SaAuxBN on the same examples; one seed each: the test compares two trained models, not two norms._
	// _Single-branch norms (BN, ModeNorm, ...) report their one network in both tables._
	//
	// PGD-10 (RA), BN: McNemar p = 0.500 against SaAuxBN
}
