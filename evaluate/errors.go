package evaluate

import (
	"errors"
	"fmt"
)

// ErrNoTestData is returned for a model outside a run directory (an
// advbench checkpoint elsewhere, or a foreign state dict) evaluated without
// naming its test data: nothing says which data it belongs to, and scoring
// the built-in data silently would give a confident, meaningless number.
var ErrNoTestData = errors.New("evaluate: the model is not inside a run directory, so its test data is unknown: name it (a CIFAR-10 path, or builtin for the built-in data)")

// SeenImagesError reports test images that the evaluated run trained or
// validated on (found by the images' fingerprints, not by paths).
type SeenImagesError struct {
	Run       string // the run directory
	Data      string // the test data's description
	Shared    int    // test images the run saw
	Of        int    // test images
	First     int    // index of the first one in the test set
	RunOnFile bool   // the test data is the run's own single file
}

func (e *SeenImagesError) Error() string {
	why := ""
	if e.RunOnFile {
		why = " (the run's data is a single file, which was its training split: give other test data)"
	}
	return fmt.Sprintf("evaluate: %d of the %d test images of %s (the first is test record %d) are images the run %s trained or validated on%s; a model is never scored on images it saw",
		e.Shared, e.Of, e.Data, e.First, e.Run, why)
}

// OutFileError reports an output that names one result file (a .json
// path) while several branches are evaluated, each into its own file.
type OutFileError struct {
	Out      string
	Branches int
}

func (e *OutFileError) Error() string {
	return fmt.Sprintf("evaluate: output %s names one file, but %d branches are evaluated: give a directory or evaluate one branch", e.Out, e.Branches)
}

// ExistsError reports an output file that exists and that the job would
// replace (landscape lines are not reused: Options.Force replaces them).
type ExistsError struct {
	Path string
}

func (e *ExistsError) Error() string {
	return fmt.Sprintf("evaluate: %s exists", e.Path)
}
