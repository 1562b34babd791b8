package evaluate

import (
	"errors"
	"os"

	"github.com/advbench/advbench/results"
)

// identified is a result file that says which evaluation it holds.
type identified interface{ Identity() results.Identity }

// existing applies the one identity rule (results.Identity) to the result
// file at path before an evaluation that would write it: a file of the
// evaluation want describes is returned for reuse (found); a missing file,
// or any file when force is set, is to be computed and replaced; a file of
// another evaluation is refused with a *results.OtherEvaluationError, and
// an unreadable one with the reader's error, so neither is lost.
func existing[T identified](path string, read func(string) (T, error), want results.Identity, force bool) (old T, found bool, err error) {
	var zero T
	if force {
		return zero, false, nil
	}
	f, err := read(path)
	switch {
	case errors.Is(err, os.ErrNotExist):
		return zero, false, nil
	case err != nil:
		return zero, false, err
	}
	if err := results.Same(path, f.Identity(), want); err != nil {
		return zero, false, err
	}
	return f, true, nil
}
