package rundir

import "errors"

// ErrInterrupted is the one error every long job wraps when its context is
// cancelled (SIGINT, SIGTERM): training, an evaluation, a sweep, gradient
// statistics, a reproduction. What the job had finished is in its
// directory (a training run's checkpoint, an evaluation's saved batches,
// each finished result file), and running the same job again continues
// from there. Callers test for it with errors.Is; the command line exits
// 130 on it.
var ErrInterrupted = errors.New("interrupted")
