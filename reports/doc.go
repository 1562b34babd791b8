// Package reports renders evaluation results (package results) as the
// paper's tables: Table 3 (standard accuracy of the clean branch) and
// Table 4 (standard and robust accuracy of the adversarial branch), each
// cell with a 95% interval and, against SaAuxBN, McNemar's exact test on
// the per-example outcomes. It never runs a model: everything it shows is
// in the result files.
//
// # Usage
//
// Read the result files 'advbench eval' wrote, build the report (it refuses
// files that cannot share a table, naming both and the field that differs),
// then render it in any of Formats:
//
//	var srcs []results.Source
//	for _, path := range paths {
//		f, err := results.Read(path)
//		if err != nil { ... }
//		srcs = append(srcs, results.Source{Path: path, File: f})
//	}
//	rep, err := reports.Build(srcs, reports.Options{Paper: true}) // with the published values
//	if err != nil { ... }
//	err = reports.Render(os.Stdout, rep, "markdown")             // or table, csv, json, latex
//
// The Report is data (JSON-encodable): each cell's mean, interval and
// p-value can be read directly instead of parsed from a rendering.
package reports
