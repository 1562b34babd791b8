package registry_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/advbench/advbench/attack"
	"github.com/advbench/advbench/norms"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// arXivID is a modern arXiv identifier as the doc comments spell it.
var arXivID = regexp.MustCompile(`arXiv:\d{4}\.\d{4,5}\b`)

// TestRegisteredCiteTheirPapers: the file that registers each norm and each
// attack (one per file, STYLE.md) names its paper with an arXiv id in a
// "Paper:" paragraph, so the algorithm can be checked against its source.
func TestRegisteredCiteTheirPapers(t *testing.T) {
	for _, pkg := range []struct {
		dir   string
		names []string
	}{{"norms", norms.Names()}, {"attack", attack.Names()}} {
		paths, err := filepath.Glob(filepath.Join("..", "..", pkg.dir, "*.go"))
		require.NoError(t, err)
		src := map[string]string{}
		for _, p := range paths {
			if strings.HasSuffix(p, "_test.go") {
				continue
			}
			b, err := os.ReadFile(p)
			require.NoError(t, err)
			src[p] = string(b)
		}
		require.NotEmpty(t, src, pkg.dir)
		for _, name := range pkg.names {
			var file string
			for p, s := range src {
				if strings.Contains(s, `register("`+name+`"`) {
					file = p
				}
			}
			if !assert.NotEmpty(t, file, "%s: no file registers %q", pkg.dir, name) {
				continue
			}
			assert.True(t, strings.Contains(src[file], "// Paper: "), "%s registers %s but has no \"Paper:\" paragraph", file, name)
			assert.True(t, arXivID.MatchString(src[file]), "%s registers %s but names no arXiv id", file, name)
		}
	}
}
