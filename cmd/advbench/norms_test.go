package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/advbench/advbench/norms"
	"github.com/advbench/advbench/reports"
	"github.com/stretchr/testify/assert"
)

// TestEveryNormIsListed: every registered norm has a display name for
// tables and figures, a line in `model summary`'s help, and a row in the
// table of normalization layers in docs/models.md.
func TestEveryNormIsListed(t *testing.T) {
	_, summaryHelp, _ := runCLI(t, "model", "summary", "--help")
	readme, err := os.ReadFile(filepath.Join("..", "..", "docs", "models.md"))
	if err != nil {
		t.Fatalf("docs/models.md: %v", err)
	}
	for _, n := range norms.Names() {
		assert.NotEqual(t, n, reports.DisplayName(n), "%s has no display name", n)
		assert.Contains(t, summaryHelp, "\n     "+n+" ", "model summary --help lists %s", n)
		assert.True(t, strings.Contains(string(readme), "\n| `"+n+"` |"), "docs/models.md's norms table has a row for %s", n)
	}
}
