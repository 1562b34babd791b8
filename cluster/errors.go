package cluster

import (
	"fmt"
	"strings"
)

// MissingError reports the Options a plan's target needs and was not
// given: Missing names the fields ("Image", "Results").
type MissingError struct {
	Target  string // "Kubernetes" or "Slurm"
	Missing []string
}

// fieldHelp says what each field of Options holds, for messages.
var fieldHelp = map[string]string{"Image": "a container image (Options.Image)", "Results": "a results location (Options.Results)"}

func (e *MissingError) Error() string {
	var needs []string
	for _, f := range e.Missing {
		needs = append(needs, fieldHelp[f])
	}
	return fmt.Sprintf("cluster: a %s plan needs %s", e.Target, strings.Join(needs, " and "))
}
